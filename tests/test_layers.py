"""The layers (pyproject.toml's [tool.importlinter]) are enforced: `lint-imports` passes on the package
as it is and fails, naming the contract, when a core module imports from a layer above it."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.paths import ROOT

LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
LAYERS = "layers: front doors > commands"


def lint_imports(checkout: Path) -> subprocess.CompletedProcess[str]:
    if not LINT_IMPORTS.exists():
        pytest.fail(f"{LINT_IMPORTS} is missing: install the test extra (pip install -e '.[test]')")
    env = {"PATH": str(LINT_IMPORTS.parent), "PYTHONPATH": str(checkout), "SYSTEMROOT": "C:\\Windows"}
    return subprocess.run([str(LINT_IMPORTS), "--no-cache", "--config", str(checkout / "pyproject.toml")],
                          cwd=checkout, env=env, capture_output=True, text=True, timeout=300)


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    copy = tmp_path / "checkout"
    shutil.copytree(ROOT / "toolkit", copy / "toolkit", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", copy)
    return copy


def test_the_package_keeps_its_layers(checkout: Path) -> None:
    result = lint_imports(checkout)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_a_core_module_importing_a_command_breaks_the_layers(checkout: Path) -> None:
    model = checkout / "toolkit" / "core" / "model.py"
    model.write_text(model.read_text() + "\nfrom toolkit.commands import merge  # noqa: E402,F401\n")
    result = lint_imports(checkout)
    assert result.returncode != 0
    assert f"{LAYERS}" in result.stdout and "BROKEN" in result.stdout
    assert "toolkit.core.model -> toolkit.commands.merge" in result.stdout


def test_the_core_may_not_open_files_through_a_spreadsheet_library(checkout: Path) -> None:
    plan = checkout / "toolkit" / "core" / "plan.py"
    plan.write_text(plan.read_text() + "\nimport openpyxl  # noqa: E402,F401\n")
    result = lint_imports(checkout)
    assert result.returncode != 0
    assert "the core reads and writes nothing" in result.stdout and "BROKEN" in result.stdout
