"""The 操作记录 sheet: one row per change, appended, never edited. It is how leaders see who did what."""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass

from toolkit import __version__
from toolkit.core.changeset import CellWrite, ChangeSet, NewSheet

LOG_COLUMNS = ("时间", "操作人", "操作", "党支部", "阶段", "原值", "新值", "来源文件", "SHA256", "版本")
LOG_WIDTHS = [20, 10, 10, 24, 12, 40, 40, 30, 20, 8]
_CLIP = 200


@dataclass(frozen=True)
class LogEntry:
    time: dt.datetime
    operator: str
    action: str  # 新增 / 更新 / 盖章 / 退回 / 旧版本 / 初始化
    branch: str = ""
    stage: str = ""
    old: str = ""
    new: str = ""
    source: str = ""
    sha256: str = ""

    def cells(self) -> list[str]:
        return [_time_text(self.time), self.operator, self.action, self.branch, self.stage,
                _clip(self.old), _clip(self.new), self.source, self.sha256, __version__]


@functools.lru_cache(maxsize=16)
def _time_text(time: dt.datetime) -> str:
    """A log row's time as written (the entries of one change share theirs)."""
    return time.strftime("%Y-%m-%d %H:%M:%S")


def _clip(text: str) -> str:
    return text if len(text) <= _CLIP else text[: _CLIP - 1] + "…"


def append_log(changes: ChangeSet, sheet: str, log_rows: int | None, entries: list[LogEntry]) -> None:
    """Add `entries` below the log's last row; create the sheet when the master has none yet."""
    if not entries:
        return
    if log_rows is None:
        changes.new_sheets.append(NewSheet(sheet, [list(LOG_COLUMNS)], LOG_WIDTHS))
        log_rows = 0
    changes.writes += [CellWrite(sheet, n, c, v) for n, entry in enumerate(entries, start=log_rows + 1)
                       for c, v in enumerate(entry.cells()) if v != ""]
