"""The master as a file: read in a process of its own, under limits sized for masters, and every reason
it cannot be read said in the master's own words.

The master is the office's own workbook, yet it passes through many hands (USB sticks, mail, Excel,
WPS, LibreOffice) and one odd part can still abort a reader outright (a cell declared at XFD1048576
makes calamine allocate the whole sheet) or take all memory. So it is read as a branch's form is: the
same pre-parse checks (toolkit.readers.limits) and a child process with a memory cap and a deadline
(toolkit.files.sandbox.run_isolated); only the figures differ (MASTER_LIMITS), and the words: a master is
not "resubmitted", it is repaired in Excel/WPS or restored with `brandkit undo`.

A master's zip must also tell one story: a central directory record that disagrees with its member's
local header (name, compression, sizes) means readers that follow one or the other see different
workbooks, so such a master is refused rather than patched.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from toolkit.core.errors import UsageProblem
from toolkit.core.grid import Grid
from toolkit.core.master import MasterSnapshot, snapshot
from toolkit.files.phases import phase
from toolkit.readers.master_grids import GB, MASTER_LIMITS, MB, read_grids_isolated

# Why a master cannot be read, by toolkit.readers.errors.Unreadable reason (and the child's fate).
_PROBLEMS = {
    "too_large": "台账 {name} 有 {size_mb} MB，超过 brandkit 能处理的 {limit_mb} MB。请压缩台账中的图片（或把往年的"
                 "工作表另存为单独的文件）后再试",
    "zip_bomb": "台账 {name} 解压后过大（{ratio}，上限 {limit}）。请在 Excel/WPS 中删去不用的工作表和图片，另存后再试",
    "too_many_cells": "台账 {name} 的工作表“{sheet}”使用范围达 {rows} 行 × {cols} 列，超过 {limit} 个单元格的上限"
                      "（多半是格式被拖到了整行整列）。请在 Excel/WPS 中删除多余的行列后保存再试",
    "zip_mismatch": "台账 {name} 的 zip 结构前后矛盾（部件 {member} 的目录记录与它的文件头不一致），不同的程序会从中"
                    "读出不同的内容，brandkit 不会改动它。请用 Excel/WPS 打开后另存为 .xlsx 再试",
    "xml_attack": "台账 {name} 含有不安全的 XML 结构（外部实体或实体膨胀），为安全起见未读取。请在 Excel/WPS 中"
                  "另存为新文件后再试",
    "encrypted": "台账 {name} 设有打开密码，brandkit 无法读取。请在 Excel/WPS 中去掉密码后再试",
    "empty": "台账 {name} 是空文件（0 字节）。可以运行 brandkit undo 恢复上一次的备份",
    "not_spreadsheet": "台账 {name} 不是 .xlsx/.xlsm 文件（识别为 {what}）。请在 Excel/WPS 中另存为 .xlsx 后再用",
    "not_xlsx": "台账 {name} 不是 .xlsx/.xlsm 文件（识别为 {kind}）。请在 Excel/WPS 中另存为 .xlsx 后再用",
    "corrupt": "台账 {name} 已损坏，无法读取。请用 Excel/WPS 打开它并另存为 .xlsx；若打不开，可运行 brandkit undo "
               "恢复上一次的备份",
    "timeout": "读取台账 {name} 超过 {seconds} 秒仍未完成，已停止。请在 Excel/WPS 中删除多余的行列和不用的工作表，"
               "另存后再试",
    "crashed": "读取台账 {name} 的进程异常退出（台账中有不规范的内容，或所需内存超过 {memory_gb} GB 的上限）。"
               "请用 Excel/WPS 打开台账另存为 .xlsx 后再试",
}


def master_problem(name: str, reason: str, params: dict[str, Any] | None = None) -> str:
    """The master's own sentence for `reason`; one whose figures are missing reads as "corrupt"."""
    figures = {"name": name, "seconds": int(MASTER_LIMITS.timeout_s),
               "memory_gb": MASTER_LIMITS.memory_bytes // GB, **(params or {})}
    try:
        return _PROBLEMS.get(reason, _PROBLEMS["crashed"]).format(**figures)
    except (KeyError, IndexError):
        return _PROBLEMS["corrupt"].format(**figures)


def master_bytes(path: Path) -> bytes:
    """The master's bytes; a missing master, or one Windows will not let us read while Excel/WPS holds
    it, is a UsageProblem in Chinese."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise UsageProblem(f"找不到台账文件：{path}") from None
    except PermissionError as exc:  # Windows: Excel/WPS holds it
        from toolkit.files.atomic import held_message

        raise UsageProblem(held_message(path, "读取")) from exc
    except OSError as exc:
        raise UsageProblem(f"台账 {path.name} 无法读取：{exc.strerror or exc}") from exc


def master_grids(name: str, data: bytes) -> dict[str, Grid]:
    """The master's sheets, read in a child process under MASTER_LIMITS (`name` for messages)."""
    from toolkit.files.sandbox import Failure, run_isolated

    limits = MASTER_LIMITS
    if len(data) > limits.max_file_bytes:
        raise UsageProblem(master_problem(name, "too_large", {"size_mb": round(len(data) / MB, 1),
                                                              "limit_mb": limits.max_file_bytes // MB}))
    result = dict(run_isolated(read_grids_isolated, [(0, (data,))], timeout_s=limits.timeout_s,
                               memory_bytes=limits.memory_bytes, workers=1)).get(0, Failure("crashed"))
    if isinstance(result, Failure):
        raise UsageProblem(master_problem(name, result.reason if result.reason == "timeout" else "crashed"))
    if isinstance(result, tuple):
        reason, params = result
        raise UsageProblem(master_problem(name, reason, params))
    return dict(result)


def digest(data: bytes) -> str:
    """The sha256 a snapshot records of the bytes it was taken from."""
    return hashlib.sha256(data).hexdigest()


def load_master(path: Path, profile_name: str | None = None, data: bytes | None = None) -> MasterSnapshot:
    """Read the master's values (python-calamine, in a child process under the master's limits) and
    snapshot it; `data`: its bytes, already read (under the transaction's lock).
    The snapshot records the sha256 of the bytes it was taken from."""
    if data is None:
        with phase("master: read bytes"):
            data = master_bytes(path)
    with phase("master: grids (child)"):
        grids = master_grids(path.name, data)
    with phase("master: snapshot"):
        snap = snapshot(path, grids, profile_name)
        snap.sha256 = digest(data)
    return snap
