"""Imported by the workers' fork server only (toolkit.files.sandbox preloads it there): when the command
ends, the server leaves at once instead of tearing down every module it preloaded. That teardown takes
~30 ms, during which the server still holds the command's stdout and stderr, so whoever reads them to the
end (a script, the Excel button, a benchmark) waits for it. Its workers never run exit handlers (they
leave through os._exit), and in any other process importing this module does nothing.
"""

import atexit
import os
import sys
from types import FrameType


def _leave_now() -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:
                stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(0)


def _in_fork_server() -> bool:
    """Whether this import runs inside multiprocessing's fork server main (it imports its preload there)."""
    server = sys.modules.get("multiprocessing.forkserver")
    frame: FrameType | None = sys._getframe()
    while server is not None and frame is not None:
        if frame.f_code is server.main.__code__:
            return True
        frame = frame.f_back
    return False


LEAVES_AT_ONCE = _in_fork_server()
if LEAVES_AT_ONCE:
    atexit.register(_leave_now)
