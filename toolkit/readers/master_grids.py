"""The master's grids as its reader process reads them (toolkit.files.masterfile starts it, under these
limits): the pre-parse checks of toolkit.readers.limits, the zip's own records, then calamine.

Apart from toolkit.files.masterfile so the process that reads a master imports only this, the checks and
calamine: a command that reads only its master (stamp) has its reader's server ready sooner.
"""

from __future__ import annotations

import gc
import math
import os
import struct
from typing import Any

from toolkit.core.grid import Grid
from toolkit.readers.errors import Unreadable
from toolkit.readers.limits import Limits

MB = 1024 * 1024
GB = 1024 * MB

# Real masters are tens of MB, nearly all of it logo pictures; their sheets a few thousand rows. The
# figures leave room for ten times that and still bound what one hostile part can cost.
MASTER_LIMITS = Limits(
    max_file_bytes=200 * MB,
    max_members=20_000,  # a part per logo and its rels: thousands of branches over the years
    max_unzipped_bytes=2 * GB,
    # Not checked per part: a style-heavy master's styles.xml inflates 500:1 and more, which is no
    # bomb; the total above and the child's memory cap bound one.
    max_ratio=math.inf,
    max_cells=20_000_000,  # used area of a sheet (rows × columns): 20,000 rows × 1,000 columns
    timeout_s=180.0,
    memory_bytes=3 * GB,
)


def read_grids_isolated(data: bytes) -> dict[str, Grid] | tuple[str, dict[str, Any]]:
    """Child process: the checks of toolkit.readers.limits under MASTER_LIMITS, the zip's records, then
    the grids; a master that fails a check comes back as (reason, figures). A reader that aborts (Rust
    prints why, and a backtrace) says nothing on the console: the parent's message says it, in Chinese
    (unless BRANDKIT_DEBUG asks for everything)."""
    from toolkit.readers.grid import read_grids
    from toolkit.readers.limits import check_zip
    from toolkit.readers.sniff import sniff

    if not os.environ.get("BRANDKIT_DEBUG"):
        _quiet_stderr()
    gc.disable()  # the grids are many small objects and no cycles: the collector would walk them for nothing
    try:
        kind = sniff(data)
        if kind != "xlsx":
            return "not_xlsx", {"kind": kind}
        check_zip(data, MASTER_LIMITS)
        check_records(data)
        return read_grids(data, kind)
    except Unreadable as exc:
        return exc.reason, dict(exc.params)
    finally:
        gc.enable()


def _quiet_stderr() -> None:
    """This process's error output (file descriptor 2, where native code writes) goes nowhere."""
    try:
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, 2)
        os.close(null)
    except OSError:  # no console at all (pythonw): nothing to quiet
        pass


_LOCAL = struct.Struct("<4s5H3I2H")  # a local file header: signature .. extra length (30 bytes)
_DESCRIPTOR = 0x08  # general-purpose flag: CRC and sizes follow the data, not in the local header
_ZIP64 = 0xFFFFFFFF


def check_records(data: bytes) -> None:
    """Every central directory record agrees with its member's local header: the name, the flags that
    change how the data reads, the compression method, and (unless a data descriptor carries them) CRC
    and sizes; and the member lies before the directory. Raises Unreadable("zip_mismatch", member=…)."""
    from toolkit.readers.zipparts import open_zip

    zf = open_zip(data)
    if zf is None:
        raise Unreadable("corrupt")
    for info in zf.infolist():
        off = info.header_offset
        if off + _LOCAL.size > len(data) or data[off:off + 4] != b"PK\x03\x04":
            raise Unreadable("zip_mismatch", member=info.filename)
        _, _, flags, method, _, _, crc, csize, usize, name_len, extra_len = _LOCAL.unpack_from(data, off)
        raw_name = info.orig_filename.encode("utf-8" if info.flag_bits & 0x800 else "cp437")
        sizes = (crc, csize, usize) == (info.CRC, info.compress_size, info.file_size) \
            or bool(flags & _DESCRIPTOR) or _ZIP64 in (csize, usize)
        end = off + _LOCAL.size + name_len + extra_len + info.compress_size
        if (data[off + _LOCAL.size:off + _LOCAL.size + name_len] != raw_name or method != info.compress_type
                or (flags ^ info.flag_bits) & (_DESCRIPTOR | 0x01) or not sizes or end > zf.start_dir):
            raise Unreadable("zip_mismatch", member=info.filename)
