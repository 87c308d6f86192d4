"""The session guards of tests/conftest.py: what counts as a read beside the checkout, which programs
need a marker, and that the audit hook really records such a read and fails the session on it."""

from __future__ import annotations

import os
import uuid

import pytest

from tests import guards
from tests.guards import GUARD
from tests.paths import ROOT

pytest_plugins = ("pytester",)

CHECKOUT = "/ci/builds/brandkit"


@pytest.mark.parametrize("path, beside", [
    ("/ci/builds/shared/roster.xlsx", True),  # the folder CI clones beside the repository
    ("/ci/builds/shared", True),
    ("/ci/builds", True),  # listing the parent shows what lies beside
    ("/ci/builds/brandkit-old/tests/x.xlsx", True),  # a sibling whose name starts like the checkout's
    ("/ci/builds/brandkit", False),
    ("/ci/builds/brandkit/tests/corpus/a.xlsx", False),
    ("/ci/builds/brandkit/.venv/lib/site.py", False),
    ("/ci/builds/.cache/matplotlib/fontlist.json", False),  # a user's dot-folder when the clone is in ~
    ("/ci/python3.11/lib/os.py", False),  # above the parent
    ("/usr/share/fonts/x.ttf", False),
    ("/ci/builds/tmp/pytest-0/x", False),  # an allowed folder (the temp folder) beside the checkout
    ("/ci/builds/py/lib/os.py", False),  # the interpreter, installed beside the checkout
])
def test_beside_checkout(path: str, beside: bool) -> None:
    assert guards.beside_checkout(path, CHECKOUT, ["/ci/builds/tmp", "/ci/builds/py"]) is beside


def test_a_clone_at_the_top_of_the_file_system_has_nothing_beside_it() -> None:
    assert not guards.beside_checkout("/shared/roster.xlsx", "/brandkit")
    assert not guards.beside_checkout("/etc/passwd", "/brandkit")


@pytest.mark.parametrize("executable, args, marker", [
    (None, ["/usr/bin/soffice", "--headless", "--convert-to", "xlsx"], "libreoffice"),
    ("/usr/lib/libreoffice/program/soffice.bin", ["soffice.bin"], "libreoffice"),
    (b"/usr/bin/libreoffice", [b"/usr/bin/libreoffice"], "libreoffice"),
    (None, ["/usr/sbin/dovecot", "-F", "-c", "dovecot.conf"], "dovecot"),
    (None, "doveadm user branch", "dovecot"),
    (None, ["/usr/bin/python3", "-m", "toolkit"], None),
    (None, [], None),
])
def test_program_marker(executable: object, args: object, marker: str | None) -> None:
    assert guards.program_marker(executable, args) == marker


def test_the_hook_records_an_open_beside_the_checkout_and_not_inside() -> None:
    parent = os.path.dirname(GUARD.root)
    if parent == os.path.dirname(parent):
        pytest.skip("this checkout sits at the top of the file system: nothing lies beside it")
    probe = os.path.join(parent, f"brandkit-guard-probe-{uuid.uuid4().hex}.txt")  # never created
    with GUARD.expect_reads() as seen:
        with pytest.raises(FileNotFoundError):
            open(probe, encoding="utf-8")  # the audit event comes before the file system says no
        with pytest.raises(FileNotFoundError):
            os.listdir(probe)
        (ROOT / "tests" / "paths.py").read_bytes()  # inside the checkout: not recorded
    assert [path for path, _ in seen] == [os.path.realpath(probe)] * 2
    assert {test for _, test in seen} == {os.environ["PYTEST_CURRENT_TEST"].rsplit(" ", 1)[0]}


def test_a_read_beside_the_checkout_fails_the_session(pytester: pytest.Pytester) -> None:
    """An inner pytest session with this conftest as a plugin: its only test passes, but it opens a
    file beside the checkout, so the session fails and names the path."""
    parent = os.path.dirname(GUARD.root)
    if parent == os.path.dirname(parent):
        pytest.skip("this checkout sits at the top of the file system: nothing lies beside it")
    probe = os.path.join(parent, f"brandkit-guard-probe-{uuid.uuid4().hex}.txt")
    pytester.makepyfile(test_reads_beside=f"""
        def test_passes_but_reads_beside():
            try:
                open({probe!r}, encoding="utf-8")
            except FileNotFoundError:
                pass
        """)
    outer = GUARD.test, GUARD.markers
    try:
        with GUARD.expect_reads() as seen:
            result = pytester.runpytest_inprocess("-p", "tests.conftest", "-p", "no:cacheprovider",
                                                  "-p", "no:hypothesispytest")
    finally:
        GUARD.test, GUARD.markers = outer
    result.assert_outcomes(passed=1)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["*session guards*", f"read beside the checkout: {os.path.realpath(probe)}*"])
    assert [path for path, _ in seen] == [os.path.realpath(probe)]


def test_starting_libreoffice_unmarked_is_recorded() -> None:
    """The hook sees the subprocess.Popen audit event before the program runs; a missing program still
    raises the event, so no LibreOffice is started here."""
    start = len(GUARD.unmarked)
    try:
        with pytest.raises(FileNotFoundError):
            import subprocess

            subprocess.run([f"/nonexistent-{uuid.uuid4().hex}/soffice", "--version"], check=False)
        assert GUARD.unmarked[start:] == [(GUARD.test, "libreoffice")]
    finally:
        del GUARD.unmarked[start:]
