"""Lint, format and type checks run with the suite, so one command checks everything."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

# mypy alone takes about 25 s.
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def _tool(name: str) -> str:
    path = BIN / name
    found = str(path) if path.exists() else shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not installed; install the test extras: pip install -e '.[test]'")
    return found


@pytest.mark.parametrize(
    "command",
    [
        ["ruff", "check", "src", "tests", "migrations", "bench", "scripts"],
        ["ruff", "format", "--check", "src", "tests", "migrations", "bench", "scripts"],
        ["mypy"],
    ],
    ids=["ruff-check", "ruff-format", "mypy-strict"],
)
def test_tool_is_clean(command: list[str]) -> None:
    result = subprocess.run(
        [_tool(command[0]), *command[1:]],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
