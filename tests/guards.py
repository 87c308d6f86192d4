"""Session guards, installed by tests/conftest.py through one audit hook (sys.addaudithook):

* reads outside the checkout: every file opened or folder listed by the test process whose real path lies
  beside the repository (under its parent folder, not under the repository, not under the temp folder)
  is recorded, and the session fails listing them. CI clones the repository next to other folders (e.g.
  `shared/`); a user's clone has nothing beside it, so a test that reads there passes only in CI.
* tiers: a test that starts LibreOffice or dovecot without the matching marker is recorded, so the fast
  tier (`-m "not libreoffice and not dovecot ..."`) can never quietly depend on them.

Only this process is watched: subprocesses (the CLI run as `python -m toolkit`, sandbox workers) are not.
"""

from __future__ import annotations

import os
import site
import sys
import sysconfig
import tempfile
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from tests.paths import ROOT

READ_EVENTS = ("open", "os.listdir", "os.scandir")
# program name -> the marker a test starting it needs
PROGRAM_MARKERS = {"soffice": "libreoffice", "soffice.bin": "libreoffice", "libreoffice": "libreoffice",
                   "oosplash": "libreoffice", "dovecot": "dovecot", "doveadm": "dovecot",
                   # started by Playwright's driver (a node process), so seen only if a test starts it itself
                   "chromium": "browser"}


def _under(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def allowed_folders() -> list[str]:
    """Folders beside the checkout a test process may read without it being the test's doing: the
    temp folder, and the interpreter with its libraries (a clone may sit next to a Python install)."""
    folders = {tempfile.gettempdir(), sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix,
               *site.getsitepackages(), site.getusersitepackages(), *sysconfig.get_paths().values()}
    return sorted({os.path.realpath(f) for f in folders if f})


def beside_checkout(path: str, root: str, allowed: Iterable[str] = ()) -> bool:
    """Whether `path` (absolute, symlinks resolved) lies beside the checkout `root`: under root's parent
    folder, but not under root itself nor under an `allowed` folder. A hidden folder beside the checkout
    (`~/.cache` when the clone sits in the home folder) is a user's configuration, not project data. A
    clone at the top of the file system has no "beside"."""
    parent = os.path.dirname(root)
    if parent == os.path.dirname(parent) or not _under(path, parent) or _under(path, root):
        return False
    if any(_under(path, folder) for folder in allowed):
        return False
    if path == parent:  # listing the parent folder shows what lies beside the checkout
        return True
    return not os.path.relpath(path, parent).startswith(".")


def program_marker(executable: object, args: object) -> str | None:
    """The marker a subprocess needs, from the audit event's executable or first argument."""
    program = executable
    if program is None and isinstance(args, list | tuple) and args:
        program = args[0]
    elif program is None and isinstance(args, str | bytes):
        program = args.split()[0] if args.split() else None
    if program is None:
        return None
    name = os.path.basename(os.fsdecode(os.fspath(program)))  # type: ignore[arg-type]
    return PROGRAM_MARKERS.get(name)


@dataclass
class Guard:
    root: str = field(default_factory=lambda: os.path.realpath(ROOT))
    allowed: list[str] = field(default_factory=allowed_folders)
    reads: list[tuple[str, str]] = field(default_factory=list)  # (path, test) read beside the checkout
    unmarked: list[tuple[str, str]] = field(default_factory=list)  # (test, marker it lacks)
    test: str = "(collection)"  # the test running now
    markers: frozenset[str] = frozenset()  # its markers
    _local: threading.local = field(default_factory=threading.local)  # per thread: inside the hook
    _folders: dict[str, str] = field(default_factory=dict)  # folder -> its real path

    def hook(self, event: str, args: tuple) -> None:
        if getattr(self._local, "busy", False):
            return
        if event in READ_EVENTS:
            target = args[0] if args else None
            if target is None or isinstance(target, int):
                return
            self._local.busy = True
            try:
                path = self._real(os.fsdecode(target))
                if beside_checkout(path, self.root, self.allowed):
                    self.reads.append((path, self.test))
            except (TypeError, ValueError, OSError):
                pass
            finally:
                self._local.busy = False
        elif event == "subprocess.Popen":
            marker = program_marker(args[0], args[1])
            if marker and marker not in self.markers:
                self.unmarked.append((self.test, marker))

    def _real(self, path: str) -> str:
        """os.path.realpath, with each folder's resolution cached (the hook runs on every open)."""
        path = os.path.abspath(path)
        if os.path.islink(path):
            return os.path.realpath(path)
        folder, name = os.path.split(path)
        real = self._folders.get(folder)
        if real is None:
            real = self._folders[folder] = os.path.realpath(folder)
        return os.path.join(real, name)

    @contextmanager
    def expect_reads(self) -> Iterator[list[tuple[str, str]]]:
        """Reads beside the checkout recorded inside the block are handed to the caller, not failed on."""
        start = len(self.reads)
        seen: list[tuple[str, str]] = []
        try:
            yield seen
        finally:
            seen.extend(self.reads[start:])
            del self.reads[start:]

    def problems(self) -> list[str]:
        lines = [f"read beside the checkout: {path}  (by {test})" for path, test in dict.fromkeys(self.reads)]
        lines += [f"{test} starts a {marker} program but is not marked @pytest.mark.{marker}"
                  for test, marker in dict.fromkeys(self.unmarked)]
        return lines


GUARD = Guard()


def install() -> Guard:
    """Install the audit hook once per process (audit hooks cannot be removed)."""
    if not getattr(sys, "_brandkit_guard_installed", False):
        sys.addaudithook(GUARD.hook)
        sys._brandkit_guard_installed = True  # type: ignore[attr-defined]
    return GUARD


# -- markers implied by the helpers a test calls ---------------------------------------------------------

# A test (or one of its fixtures) that reaches a function of one of these modules needs the marker.
HELPER_MARKERS = {"tests.libreoffice": "libreoffice", "tests.dovecot": "dovecot", "tests.browser": "browser"}


def implied_markers(functions: Iterable[object]) -> set[str]:
    """Markers implied by what `functions` call, following the helpers defined in the tests package
    (module globals, `module.helper` attributes and imports inside a function)."""
    found: set[str] = set()
    seen: set[int] = set()
    todo = [f for f in functions if callable(f)]
    while todo:
        func = todo.pop()
        func = getattr(func, "__wrapped__", func)
        code = getattr(func, "__code__", None)
        if code is None or id(code) in seen:
            continue
        seen.add(id(code))
        module = getattr(func, "__module__", "") or ""
        if module in HELPER_MARKERS:
            found.add(HELPER_MARKERS[module])
        if not module.startswith("tests"):
            continue
        names: set[str] = set()
        codes = [code]
        while codes:
            c = codes.pop()
            names.update(c.co_names)
            codes.extend(k for k in c.co_consts if hasattr(k, "co_names"))
        found.update(HELPER_MARKERS[n] for n in names if n in HELPER_MARKERS)  # imported in the body, maybe not yet loaded
        scope = getattr(func, "__globals__", {})
        modules = [scope[n] for n in names if type(scope.get(n)) is type(sys)]
        modules += [sys.modules[n] for n in names if n.startswith("tests") and n in sys.modules]
        for name in names:
            targets = [scope.get(name)] + [getattr(m, name, None) for m in modules]
            todo.extend(t for t in targets if callable(t) and (getattr(t, "__module__", None) or "").startswith("tests"))
    return found
