"""The 操作记录 sheet: one row per change, appended, never edited. It is how leaders see who did what, and
what a snapshot reads back: the files merged, the 退回 mails' deadlines, the receipts stamped."""

from __future__ import annotations

import datetime as dt
import functools
import re
from dataclasses import dataclass
from typing import Any

from toolkit import __version__
from toolkit.core.changeset import CellWrite, ChangeSet, NewSheet
from toolkit.core.grid import Grid
from toolkit.core.profile import Profile
from toolkit.core.stages import parse_stamp
from toolkit.core.text import normalize_branch
from toolkit.core.vocabulary import LogAction, NoticeKind

LOG_COLUMNS = ("时间", "操作人", "操作", "党支部", "阶段", "原值", "新值", "来源文件", "SHA256", "版本")
LOG_WIDTHS = [20, 10, 10, 24, 12, 40, 40, 30, 20, 8]
_CLIP = 200
# The deadline a 退回 mail gave, at the head of its row's 新值 ("重新报送期限 2024-08-19；收件人 …", so never
# clipped away): a merge counts a form sent back by then as on time. Rows written before it have none.
RESEND_BY = "重新报送期限"
_RESEND_BY_VALUE = re.compile(rf"{RESEND_BY}\s*(\d{{4}}-\d{{2}}-\d{{2}})")


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


def merged_files(log: Grid, actions: tuple[str, ...] = (LogAction.ADDED, LogAction.UPDATED)) -> set[tuple[str, str]]:
    """(branch, sha256) pairs the 操作记录 says were merged (新增/更新), for idempotent re-merges; or
    that took any of the other `actions`."""
    if not log.rows:
        return set()
    header = {str(v).strip(): c for c, v in enumerate(log.rows[0]) if v}
    b, s, a = header.get("党支部"), header.get("SHA256"), header.get("操作")
    if b is None or s is None or a is None:
        return set()
    return {(normalize_branch(str(row[b])), str(row[s])) for row in log.rows[1:]
            if len(row) > max(a, b, s) and row[a] in actions and row[b] and row[s]}


def returns_in_log(log: Grid, profile: Profile) -> tuple[dict[str, dt.date], dict[str, str]]:
    """What the 操作记录 says of the form's stage per branch (normalised): the deadline of the 退回 mail
    sent after the branch's last 退回 (a merge's, or a stamp's), when that mail recorded one; and the last
    receipt (a status of `receipts` or of the late kind) a merge or a stamp wrote there. Only the rows of
    those actions are looked into: a big master's log is tens of thousands of other stamps."""
    resend_by: dict[str, dt.date] = {}
    receipts: dict[str, str] = {}
    if not log.rows or not profile.stages:
        return resend_by, receipts
    header = {str(v).strip(): c for c, v in enumerate(log.rows[0]) if v}
    a, b, w = header.get("操作"), header.get("党支部"), header.get("阶段")
    if a is None or b is None or w is None:
        return resend_by, receipts
    old_col, new_col = header.get("原值"), header.get("新值")
    stage, kinds = profile.submission_stage, profile.statuses
    mailed = f"{stage.name}：{NoticeKind.RETURN.value}"
    wanted = {LogAction.RETURNED, LogAction.STAMPED, LogAction.MAILED, LogAction.ADDED, LogAction.UPDATED}

    def cell(row: list[Any], c: int | None) -> str:
        return str(row[c]).strip() if c is not None and c < len(row) and row[c] is not None else ""

    def receipt(status: str | None) -> bool:
        return status is not None and (status in kinds.receipts or kinds.kind_of(status) == "late")

    for row in log.rows[1:]:
        action = cell(row, a)
        if action not in wanted or not (branch := cell(row, b)):
            continue
        where, new = cell(row, w), cell(row, new_col)
        if action == LogAction.STAMPED and where != stage.name:
            continue
        key = normalize_branch(branch)
        if action == LogAction.RETURNED or (action == LogAction.STAMPED
                                            and kinds.kind_of(parse_stamp(new) or "") == "returned"):
            resend_by.pop(key, None)  # a new 退回: an earlier mail's deadline is not this one's
        if action == LogAction.MAILED and where == mailed:
            day = _iso_date(found.group(1)) if (found := _RESEND_BY_VALUE.search(new)) else None
            if day is None:  # a mail from before deadlines were recorded: the merge counts from the 退回
                resend_by.pop(key, None)
            else:
                resend_by[key] = day
        if action in (LogAction.ADDED, LogAction.UPDATED):
            name, _, status = where.rpartition("：")
            if name == stage.name and receipt(status):
                receipts[key] = status
        if action == LogAction.STAMPED:
            for stamped in (parse_stamp(cell(row, old_col)), parse_stamp(new)):
                if stamped is not None and receipt(stamped):
                    receipts[key] = stamped
    return resend_by, receipts


def _iso_date(text: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return None
