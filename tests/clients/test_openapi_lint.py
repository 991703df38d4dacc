"""openapi.yaml is clean under Redocly's recommended rules and Spectral's `spectral:oas`.

Both linters are pinned by clients/package-lock.json and run with their default rulesets
(no redocly.yaml; clients/.spectral.yaml only extends `spectral:oas`), through the npm
scripts a developer runs (`npm run lint:redocly`, `npm run lint:spectral`). Spectral fails
on warnings too.
"""

import json
import re
import shutil
from pathlib import Path

import pytest

from tests.clients.conftest import CLIENTS, run, tool_env

pytestmark = pytest.mark.slow


def test_spectral_uses_the_default_ruleset_and_redocly_its_recommended_one() -> None:
    ruleset = (CLIENTS / ".spectral.yaml").read_text(encoding="utf-8")
    lines = [line for line in ruleset.splitlines() if line.strip() and not line.startswith("#")]
    assert lines == ['extends: ["spectral:oas"]']
    configs = ["redocly.yaml", "redocly.yml", ".redocly.yaml", ".redocly.yml"]
    assert not [name for name in configs if (CLIENTS / name).exists()]
    assert not [name for name in configs if (CLIENTS.parent / name).exists()]


def test_the_tools_are_pinned_exactly() -> None:
    """Exact versions in package.json, locked in package-lock.json; `==` in requirements."""
    package = json.loads((CLIENTS / "package.json").read_text(encoding="utf-8"))
    lock = json.loads((CLIENTS / "package-lock.json").read_text(encoding="utf-8"))
    wanted = package["devDependencies"]
    assert {"@redocly/cli", "@stoplight/spectral-cli", "openapi-typescript"} <= set(wanted)
    for name, version in wanted.items():
        assert re.fullmatch(r"\d+\.\d+\.\d+", version), f"{name} is not pinned: {version}"
        assert lock["packages"][f"node_modules/{name}"]["version"] == version, name
    assert lock["packages"][""]["devDependencies"] == wanted
    requirements = (CLIENTS / "python" / "requirements.txt").read_text(encoding="utf-8")
    pins = [line for line in requirements.splitlines() if line and not line.startswith("#")]
    assert pins
    assert all(re.fullmatch(r"[A-Za-z0-9_.\-]+==[^=<>~,; ]+", line) for line in pins), pins
    assert any(line.startswith("openapi-python-client==") for line in pins)


@pytest.mark.parametrize("script", ["lint:redocly", "lint:spectral"])
def test_openapi_document_is_lint_clean(node_tools: Path, script: str) -> None:
    npm = shutil.which("npm")
    assert npm is not None
    linted = run([npm, "run", "--silent", script], cwd=CLIENTS, timeout=300, env=tool_env())
    assert linted.returncode == 0, f"openapi.yaml is not clean under {script}:\n{linted.output}"
