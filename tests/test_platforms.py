"""brandkit runs on Windows, macOS and Linux: the type check per platform (`make lint`) and the offline
wheelhouse (`make wheelhouse`, scripts/wheelhouse.py)."""

from __future__ import annotations

import ast
import functools
import importlib.util
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import ModuleType

import pytest

from tests.paths import ROOT

# -- the type check fails on a POSIX-only call without a guard ---------------------------------------------

UNGUARDED = '''\
import os
import resource


def cap(max_bytes: int) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (max_bytes, max_bytes))


def hint(fd: int) -> None:
    os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_WILLNEED)
'''

GUARDED = '''\
import os
import sys

if sys.platform != "win32":
    import resource


def cap(max_bytes: int) -> None:
    if sys.platform != "win32":
        resource.setrlimit(resource.RLIMIT_AS, (max_bytes, max_bytes))


def hint(fd: int) -> None:
    if sys.platform == "linux":
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_WILLNEED)
'''


def _mypy(module: Path, platform: str) -> subprocess.CompletedProcess[str]:
    """mypy as `make lint` runs it (the project's configuration), on one module."""
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--config-file", str(ROOT / "pyproject.toml"), "--platform", platform,
         "--cache-dir", str(module.parent / f".mypy_cache-{platform}"), str(module)],
        cwd=module.parent, capture_output=True, text=True, timeout=300)


@pytest.fixture
def modules(tmp_path: Path) -> dict[str, Path]:
    out = {}
    for name, text in (("unguarded", UNGUARDED), ("guarded", GUARDED)):
        (tmp_path / name).mkdir()
        out[name] = tmp_path / name / "limits.py"
        out[name].write_text(text, encoding="utf-8")
    return out


@pytest.mark.slow  # mypy in a subprocess
@pytest.mark.slow  # three mypy runs
def test_an_unguarded_posix_call_fails_the_windows_and_macos_type_check(modules: dict[str, Path]) -> None:
    win = _mypy(modules["unguarded"], "win32")
    assert win.returncode == 1, win.stdout + win.stderr
    assert 'Module has no attribute "setrlimit"' in win.stdout
    assert 'Module has no attribute "posix_fadvise"' in win.stdout
    mac = _mypy(modules["unguarded"], "darwin")  # macOS has resource, but no posix_fadvise
    assert mac.returncode == 1, mac.stdout + mac.stderr
    assert 'Module has no attribute "posix_fadvise"' in mac.stdout and "setrlimit" not in mac.stdout
    linux = _mypy(modules["unguarded"], "linux")
    assert linux.returncode == 0, linux.stdout + linux.stderr


@pytest.mark.slow  # mypy in a subprocess, once per platform
@pytest.mark.parametrize("platform", ["win32", "darwin", "linux"])
def test_the_same_calls_behind_sys_platform_pass(modules: dict[str, Path], platform: str) -> None:
    result = _mypy(modules["guarded"], platform)
    assert result.returncode == 0, result.stdout + result.stderr


# The type check sees attributes, not imports: `import resource` at the top of a module passes mypy on
# win32 (typeshed's resource.pyi exists, only empty there) yet fails at import time on Windows.
POSIX_ONLY = {"resource", "fcntl", "termios", "tty", "pty", "pwd", "grp", "posix", "syslog", "crypt", "spwd"}
WINDOWS_ONLY = {"msvcrt", "winreg", "_winapi", "winsound", "nt", "win32api", "win32con", "win32job",
                "win32process", "pywintypes"}


def _guarded(parents: list[ast.AST]) -> bool:
    for node in parents:
        if isinstance(node, ast.If) and any(
                isinstance(n, ast.Attribute) and n.attr in ("platform", "name") for n in ast.walk(node.test)):
            return True  # if sys.platform ... / if os.name ...
        if isinstance(node, ast.Try) and any(
                h.type is None or any(isinstance(n, ast.Name) and n.id in ("ImportError", "ModuleNotFoundError")
                                      for n in ast.walk(h.type)) for h in node.handlers):
            return True
    return False


def _module_level_imports(tree: ast.Module) -> list[tuple[int, str, list[ast.AST]]]:
    """(line, module, enclosing statements) of every import run when the module is imported."""
    found: list[tuple[int, str, list[ast.AST]]] = []

    def visit(node: ast.AST, parents: list[ast.AST]) -> None:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            return  # runs only when called; mypy checks what the function then uses
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name.split(".")[0], parents) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.append((node.lineno, node.module.split(".")[0], parents))
        for child in ast.iter_child_nodes(node):
            visit(child, [*parents, node])

    visit(tree, [])
    return found


def test_platform_only_modules_are_imported_behind_a_guard() -> None:
    offenders = []
    for path in sorted((ROOT / "toolkit").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for line, module, parents in _module_level_imports(tree):
            if module in POSIX_ONLY | WINDOWS_ONLY and not _guarded(parents):
                offenders.append(f"{path.relative_to(ROOT)}:{line}: import {module}")
    assert not offenders, "import inside `if sys.platform ...` or try/except ImportError:\n" + "\n".join(offenders)


def test_the_import_check_sees_an_unguarded_import() -> None:
    bad = _module_level_imports(ast.parse("import resource\nif True:\n    import fcntl\n"))
    good = _module_level_imports(ast.parse(
        "import sys\nif sys.platform != 'win32':\n    import resource\n"
        "try:\n    import fcntl\nexcept ImportError:\n    fcntl = None\n"
        "def f():\n    import msvcrt\n"))
    assert [(m, _guarded(p)) for _, m, p in bad] == [("resource", False), ("fcntl", False)]
    assert [(m, _guarded(p)) for _, m, p in good if m != "sys"] == [("resource", True), ("fcntl", True)]


# -- the offline wheelhouse --------------------------------------------------------------------------------

@functools.cache
def _wheelhouse() -> ModuleType:
    """scripts/wheelhouse.py (scripts/ is not a package)."""
    spec = importlib.util.spec_from_file_location("wheelhouse", ROOT / "scripts" / "wheelhouse.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["wheelhouse"] = module  # dataclasses look their module up while the file runs
    spec.loader.exec_module(module)
    return module


def _item(name: str, version: str, requires: list[str], filename: str | None = None) -> dict:
    return {"metadata": {"name": name, "version": version, "requires_dist": requires},
            "download_info": {"url": f"https://files.example/{filename or f'{name}-{version}-py3-none-any.whl'}"}}


def test_the_dependency_graph_is_walked_with_the_targets_markers() -> None:
    """pip judges `; platform_system == "Windows"` for the machine it runs on; the walk judges it for the
    target, so a Windows wheelhouse gets pywin32 and a Linux one does not carry it."""
    wh = _wheelhouse()
    report = {"install": [
        _item("xlwings", "0.37.8", ['pywin32>=224; platform_system == "Windows"',
                                    'appscript>=1.0.1; platform_system == "Darwin"']),
        _item("pandas", "3.1.1", ['numpy>=2; python_version < "3.14"', 'tzdata; sys_platform == "win32"',
                                  'pytest>=8; extra == "test"']),
        _item("numpy", "2.5.5", []),
        _item("rich", "15.0.0", ["pygments>=2", 'ipywidgets; extra == "jupyter"']),
        _item("pygments", "2.21.0", []),
    ]}
    roots = ["xlwings>=0.33", "pandas>=2.2", "rich>=13"]
    win, win_missing = wh.walk(roots, report, wh.marker_env(wh.TARGETS["win_amd64"], "3.12"))
    assert sorted(win_missing) == ["pywin32>=224", "tzdata"]
    assert [p.name for p in win] == ["numpy", "pandas", "pygments", "rich", "xlwings"]
    mac, mac_missing = wh.walk(roots, report, wh.marker_env(wh.TARGETS["macos_arm64"], "3.12"))
    assert mac_missing == ["appscript>=1.0.1"]
    linux, linux_missing = wh.walk([*roots, "rich[jupyter]"], report,
                                   wh.marker_env(wh.TARGETS["linux_aarch64"], "3.13"))
    assert linux_missing == ["ipywidgets"]  # an extra asked for brings its own requirements
    report["install"].append(_item("pytest", "8.0", []))  # resolved for this machine, unused by the target
    assert "pytest" not in [p.name for p in wh.walk(roots, report, wh.marker_env(wh.TARGETS["win_amd64"], "3.12"))[0]]


def test_the_installers_find_a_supported_python(tmp_path: Path) -> None:
    wh = _wheelhouse()
    wh.write_installers(tmp_path, ["3.11", "3.12", "3.13"], list(wh.TARGETS.values()))
    bat = (tmp_path / "install.bat").read_bytes()
    assert bat.startswith(b"@echo off\r\nchcp 65001") and b"\n" not in bat.replace(b"\r\n", b"")
    text = bat.decode("utf-8")
    assert "for %%V in (3.12 3.11 3.13)" in text and "((3, 11), (3, 12), (3, 13),)" in text
    assert "--no-index --find-links" in text
    sh = tmp_path / "install.sh"
    sh_text = sh.read_text(encoding="utf-8")
    assert b"\r" not in sh.read_bytes() and "--no-index --find-links" in sh_text
    assert subprocess.run(["sh", "-n", str(sh)], capture_output=True).returncode == 0
    # the version probes the installers run accept this interpreter exactly when its version is listed
    mine = f"{sys.version_info[0]}.{sys.version_info[1]}"
    sh_probe = re.search(r'"\$1" -c "(.+?)" >/dev/null', sh_text)
    bat_probe = re.search(r'python -c "(.+?)" >nul', text)
    assert sh_probe and bat_probe
    for listed, expected in ((f"3.9 {mine}", 0), ("3.9 3.10", 1)):
        code = sh_probe.group(1).replace("$SUPPORTED", listed)
        assert subprocess.run([sys.executable, "-c", code]).returncode == expected, code
    assert subprocess.run([sys.executable, "-c", bat_probe.group(1)]).returncode == (mine not in wh.PYTHONS)


@pytest.mark.network
@pytest.mark.slow
def test_the_wheelhouse_resolves_for_windows_and_macos_from_wheels_alone(tmp_path: Path) -> None:
    """Against the index this machine is configured for: every dependency of brandkit resolves to a wheel
    for Windows x64 and both macOS architectures (Python 3.12), nothing built from source; pip reads the
    candidates' metadata and installs nothing (`--dry-run`)."""
    wh = _wheelhouse()
    env = wh.pip_env(tmp_path)
    requirements = wh.project_requirements(ROOT)
    targets = [wh.TARGETS[k] for k in ("win_amd64", "macos_arm64", "macos_x86_64")]
    with ThreadPoolExecutor(max_workers=3) as pool:
        pins = dict(zip([t.key for t in targets],
                        pool.map(lambda t: wh.resolve(t, "3.12", requirements, env=env), targets), strict=True))
    platform_tags = {"win_amd64": ("win_amd64",), "macos_arm64": ("arm64", "universal2"),
                     "macos_x86_64": ("x86_64", "universal2", "intel")}
    for key, found in pins.items():
        names = {p.name for p in found}
        assert {"numpy", "pandas", "lxml", "pillow", "python-calamine", "xlwings"} <= names, (key, names)
        for pin in found:
            assert pin.filename.endswith(".whl"), (key, pin)
            if not pin.filename.endswith("-none-any.whl"):
                assert any(tag in pin.filename for tag in platform_tags[key]), (key, pin)
    assert "pywin32" in {p.name for p in pins["win_amd64"]}  # xlwings' Windows-only dependency
    assert "appscript" in {p.name for p in pins["macos_arm64"]} & {p.name for p in pins["macos_x86_64"]}
    assert "pywin32" not in {p.name for p in pins["macos_arm64"]}
