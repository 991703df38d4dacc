"""Clients generated from the committed openapi.yaml work: they type-check strictly and
drive every operation of a live server.

TypeScript: openapi-typescript types + openapi-fetch, checked with `tsc --strict`, driven
by clients/typescript/drive.ts (JSON, CSV as text, the export as a stream). Python:
openapi-python-client, checked with `mypy --strict`, driven by clients/python/drive.py.
Both are generated into a temporary folder on every run, never committed. Each driver
prints `<operationId> <METHOD> <path> <status>` per call; the set of operation ids must be
exactly the document's, so an operation added without a driver call fails here, and so
does a status the document does not list for that operation.
"""

import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.clients.conftest import CLIENTS, DOCUMENT, LiveServer, Run, run, tool_env

pytestmark = pytest.mark.slow

METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}
DRIVE_TIMEOUT = 300


@dataclass
class Operation:
    method: str
    template: str
    statuses: set[int]

    def matches(self, path: str) -> bool:
        """The concrete or template path is this operation's."""
        if path == self.template:
            return True
        pattern = re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(self.template))
        return re.fullmatch(pattern, path) is not None


def document_operations() -> dict[str, Operation]:
    document: dict[str, Any] = yaml.safe_load(DOCUMENT.read_text(encoding="utf-8"))
    operations: dict[str, Operation] = {}
    for template, item in document["paths"].items():
        for method, operation in item.items():
            if method not in METHODS:
                continue
            statuses = {int(code) for code in operation.get("responses", {}) if code.isdigit()}
            operations[operation["operationId"]] = Operation(method.upper(), template, statuses)
    return operations


def check_driver_calls(driven: Run) -> None:
    """The driver succeeded and called every operation, each as the document says."""
    operations = document_operations()
    called: set[str] = set()
    problems = []
    for line in driven.stdout.splitlines():
        parts = line.split()
        if len(parts) != 4 or not parts[3].isdigit():
            continue
        operation_id, method, path, status = parts[0], parts[1], parts[2], int(parts[3])
        operation = operations.get(operation_id)
        if operation is None:
            problems.append(f"{operation_id}: not an operation of openapi.yaml")
            continue
        called.add(operation_id)
        if method != operation.method or not operation.matches(path):
            problems.append(
                f"{operation_id}: sent {method} {path}, document says "
                f"{operation.method} {operation.template}"
            )
        if status not in operation.statuses:
            problems.append(
                f"{operation_id}: status {status} is not documented ({sorted(operation.statuses)})"
            )
    assert driven.returncode == 0, driven.output
    missing = sorted(set(operations) - called)
    assert not missing, f"operations the driver never called: {missing}\n{driven.output}"
    assert not problems, "\n".join(problems) + "\n" + driven.output


@dataclass
class Build:
    """A generated, type-checked client; `log` says what went wrong when not `ok`."""

    ok: bool
    log: str
    folder: Path


@pytest.fixture(scope="session")
def typescript_client(node_tools: Path, tmp_path_factory: pytest.TempPathFactory) -> Build:
    """openapi-typescript's types for openapi.yaml, and drive.ts compiled against them
    with `tsc --strict`, in a copy of clients/ that shares its node_modules."""
    folder = tmp_path_factory.mktemp("typescript-client")
    for name in ("package.json", "tsconfig.json"):
        shutil.copy(CLIENTS / name, folder / name)
    shutil.copytree(CLIENTS / "typescript", folder / "typescript")
    (folder / "node_modules").symlink_to(node_tools, target_is_directory=True)
    bin_ = node_tools / ".bin"
    steps = [
        [str(bin_ / "openapi-typescript"), str(DOCUMENT), "-o", "generated/schema.d.ts"],
        [str(bin_ / "tsc"), "--strict", "-p", "tsconfig.json"],
    ]
    log = []
    for step in steps:
        done = run(step, cwd=folder, timeout=300, env=tool_env())
        log.append(done.output)
        if done.returncode != 0:
            return Build(False, "\n".join(log), folder)
    return Build(True, "\n".join(log), folder)


@pytest.fixture(scope="session")
def python_client(python_tools: Path, tmp_path_factory: pytest.TempPathFactory) -> Build:
    """openapi-python-client's package for openapi.yaml, with drive.py beside it, both
    checked with `mypy --strict`."""
    folder = tmp_path_factory.mktemp("python-client")
    project = folder / "nps-service-client"
    env = tool_env(PATH=f"{python_tools}:{tool_env()['PATH']}")  # its ruff post-hooks
    generate = [
        str(python_tools / "openapi-python-client"),
        "generate",
        "--path",
        str(DOCUMENT),
        "--config",
        str(CLIENTS / "python" / "config.yaml"),
        "--output-path",
        str(project),
    ]
    log = []
    done = run(generate, cwd=folder, timeout=300, env=env)
    log.append(done.output)
    # The generator exits 0 when it skipped parts of the document: its warnings fail too.
    if done.returncode != 0 or "warning" in (done.stdout + done.stderr).lower():
        return Build(False, "\n".join(log), project)
    shutil.copy(CLIENTS / "python" / "drive.py", project / "drive.py")
    check = [
        str(python_tools / "mypy"),
        "--strict",
        "--cache-dir",
        str(folder / ".mypy_cache"),
        "nps_service_client",
        "drive.py",
    ]
    done = run(check, cwd=project, timeout=300, env=env)
    log.append(done.output)
    return Build(done.returncode == 0, "\n".join(log), project)


def test_typescript_client_generates_and_type_checks(typescript_client: Build) -> None:
    assert typescript_client.ok, typescript_client.log
    assert (typescript_client.folder / "generated" / "js" / "typescript" / "drive.js").exists()


def test_python_client_generates_and_type_checks(python_client: Build) -> None:
    assert python_client.ok, python_client.log


def test_typescript_client_drives_every_operation(
    typescript_client: Build, live_server: LiveServer
) -> None:
    if not typescript_client.ok:
        pytest.fail(f"the TypeScript client did not build:\n{typescript_client.log}")
    node = shutil.which("node")
    assert node is not None
    drive = typescript_client.folder / "generated" / "js" / "typescript" / "drive.js"
    driven = run(
        [node, str(drive), live_server.base, live_server.admin_key],
        cwd=typescript_client.folder,
        timeout=DRIVE_TIMEOUT,
        env=tool_env(),
    )
    check_driver_calls(driven)


def test_python_client_drives_every_operation(
    python_client: Build, python_tools: Path, live_server: LiveServer
) -> None:
    if not python_client.ok:
        pytest.fail(f"the Python client did not build:\n{python_client.log}")
    driven = run(
        [str(python_tools / "python"), "drive.py", live_server.base, live_server.admin_key],
        cwd=python_client.folder,
        timeout=DRIVE_TIMEOUT,
        env={**tool_env(), "PYTHONPATH": str(python_client.folder)},
    )
    check_driver_calls(driven)
