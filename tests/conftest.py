"""Shared fixtures, the test tiers and the session guards.

Tiers: `make test` runs every test; the edit-test loop runs the in-process tier,
    pytest -m "not libreoffice and not dovecot and not browser and not slow and not network"
Markers: `libreoffice`, `dovecot` and `browser` are added here to every test whose code or fixtures reach
tests/libreoffice.py, tests/dovecot.py or tests/browser.py; `slow` (and `network`) are written on the tests themselves.
The guards (tests/guards.py) fail the session when a test reads a file beside the checkout, or starts
LibreOffice or dovecot without the marker.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests import guards
from tests.forms import BRANDS, form_values, logo_bytes, write_filled_form

MARKERS = {
    "libreoffice": "opens files in a real LibreOffice (soffice); added automatically to tests that use "
                   "tests/libreoffice.py",
    "dovecot": "talks to a real dovecot IMAP server; added automatically to tests that use tests/dovecot.py",
    "browser": "drives Debian's Chromium through Playwright (the local web page); added automatically to tests "
               "that use tests/browser.py",
    "slow": "takes more than a couple of seconds (subprocess-heavy, big batches); left out of the fast tier",
    "network": "needs the network beyond 127.0.0.1",
}

GUARD = guards.install()


def pytest_configure(config: pytest.Config) -> None:
    for name, text in MARKERS.items():
        config.addinivalue_line("markers", f"{name}: {text}")


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects by marker
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        fixtures = getattr(item, "_fixtureinfo", None)
        funcs: list[Any] = [getattr(item, "function", None)]
        if fixtures is not None:
            funcs += [d.func for defs in fixtures.name2fixturedefs.values() for d in defs]
        for marker in sorted(guards.implied_markers(funcs)):
            if item.get_closest_marker(marker) is None:
                item.add_marker(marker)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    GUARD.test, GUARD.markers = item.nodeid, frozenset(m.name for m in item.iter_markers())
    try:
        return (yield)
    finally:
        GUARD.test, GUARD.markers = "(between tests)", frozenset()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if GUARD.problems() and session.exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    problems = GUARD.problems()
    if problems:
        terminalreporter.section("session guards (tests/guards.py)", red=True, bold=True)
        for line in problems:
            terminalreporter.line(line, red=True)


# -- shared fixtures --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class CliResult:
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def cli() -> Callable[..., CliResult]:
    """Run brandkit in process through click's CliRunner: `cli("--json", "validate", path)`. For start-up
    imports, exit codes seen by a shell and signals use a real subprocess instead."""
    from click.testing import CliRunner

    from toolkit.cli import main

    def run(*args: str | Path) -> CliResult:
        runner = CliRunner()
        # the command sets BRANDKIT_LANG / BRANDKIT_DEBUG for its own run: listed here, they are restored
        result = runner.invoke(main, [str(a) for a in args], env={"BRANDKIT_LANG": None, "BRANDKIT_DEBUG": None},
                               catch_exceptions=False)
        return CliResult(result.exit_code, result.stdout, result.stderr)

    return run


@pytest.fixture
def make_form(tmp_path: Path) -> Callable[..., Path]:
    """`make_form(n)`: the filled hospital-brand form of BRANDS[n] in tmp_path; keywords `folder`, `name`,
    `logo` (True: a red PNG, False: none, or the picture's bytes) and field overrides."""

    def make(n: int = 0, *, folder: Path | None = None, name: str | None = None, logo: bool | bytes = True,
             **values: Any) -> Path:
        branch, brand, topic = BRANDS[n % len(BRANDS)]
        folder = folder or tmp_path
        folder.mkdir(parents=True, exist_ok=True)
        picture = logo if isinstance(logo, bytes) else logo_bytes() if logo else None
        return write_filled_form(folder / (name or f"{branch}.xlsx"),
                                 {**form_values(branch, brand, topic, n), **values}, logo=picture)

    return make


@pytest.fixture
def new_master(tmp_path: Path) -> Callable[..., Path]:
    """`new_master(roster=None)`: a fresh hospital-brand master made by `init` in process."""
    from toolkit.commands.init import init_master

    def make(roster: Path | None = None, name: str = "台账.xlsx", operator: str = "党办") -> Path:
        path = tmp_path / name
        init_master(path, "hospital-brand", roster, operator=operator)
        return path

    return make


@pytest.fixture(scope="module")
def demo_built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The folder `brandkit demo` builds (a whole sample campaign and its master), once per test module."""
    from toolkit.commands.demo import run_demo

    folder = tmp_path_factory.mktemp("demo") / "brandkit-demo"
    assert run_demo(folder, lambda _: None, lambda _: None) == 0
    return folder


@pytest.fixture
def demo_master(demo_built: Path, tmp_path: Path) -> Path:
    """A fresh copy of the demo's master (and its 标识 folder) for one test to edit."""
    import shutil

    path = tmp_path / "品牌台账.xlsx"
    shutil.copy(demo_built / path.name, path)
    shutil.copytree(demo_built / "品牌台账_标识", tmp_path / "品牌台账_标识")
    return path

