"""The words brandkit says, defined once: the CLI, the Excel buttons, the reports and the log sheet use
these names for the same things, and what is written to a master is parsed back through the same names.

Keys (Verdict, Outcome) are the stable English ids of the JSON output; the Chinese is what people read.
Log actions and receipt statuses are stored in masters in Chinese, so their values are the Chinese words.
"""

from __future__ import annotations

from enum import StrEnum


class Verdict(StrEnum):
    """A file's validation result (the `status` of `validate --json`)."""

    OK = "ok"
    WARNING = "warning"
    ERROR = "error"
    UNREADABLE = "unreadable"


SEVERITY_ZH = {"error": "错误", "warning": "警告"}  # a finding's severity, as every report and screen says it

VERDICT_ZH: dict[str, str] = {Verdict.OK: "通过", Verdict.WARNING: "有警告", Verdict.ERROR: "不通过", Verdict.UNREADABLE: "无法读取"}


class Outcome(StrEnum):
    """What a merge did with one submission (the keys of `merge --json`)."""

    ADDED = "added"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    REJECTED = "rejected"
    HELD = "held"  # warnings to confirm (--accept-warnings)
    SUPERSEDED = "superseded"  # an older copy of a branch that sent a newer one
    CONFLICT = "conflict"  # rollup: two masters hold different versions of a branch (settled by --prefer)


OUTCOME_ZH: dict[str, str] = {Outcome.ADDED: "新增", Outcome.UPDATED: "更新", Outcome.UNCHANGED: "未变", Outcome.REJECTED: "退回",
              Outcome.HELD: "暂缓", Outcome.SUPERSEDED: "旧版本", Outcome.CONFLICT: "冲突"}


class LogAction(StrEnum):
    """The 操作 column of the 操作记录 sheet: written by every apply, read back to know what was merged."""

    INIT = "初始化"
    ADDED = "新增"
    UPDATED = "更新"
    RETURNED = "退回"
    SUPERSEDED = "旧版本"
    STAMPED = "盖章"
    DELIVERED = "交材料"  # a deliverable (report, photos, links) received and marked
    QUOTA_EXCEPTION = "名额例外"  # a per-党总支 minimum left unmet on purpose, with the officer's reason
    MAILED = "发邮件"  # a notice mailed to a branch (its 阶段 cell: "申报：回执"), never sent twice


class NoticeKind(StrEnum):
    """The mails `notify` writes to branches: a receipt, a form sent back, a reminder."""

    RECEIPT = "回执"
    RETURN = "退回"
    REMINDER = "催报"


class Receipt(StrEnum):
    """The submission stage's statuses a merge stamps (a profile lists them among its stage statuses)."""

    SUBMITTED = "已提交"
    LATE = "逾期提交"
    RETURNED = "退回"
    FINAL = "定稿"  # a form replacing one already received or decided on (never late)


# Progress kinds a profile sorts its statuses into, as status and the summary show them.
KIND_ZH = {"passed": "通过", "pending": "待办", "returned": "退回", "late": "逾期", "declined": "未入选"}
NOT_SUBMITTED = "未提交"  # a branch on the roster without an accepted form (status, the summary's 未提交名单)
UNHANDLED = "未办理"  # a stage with nothing recorded for a branch yet (the summary's and status's per-stage counts)


class ReportState(StrEnum):
    """报送情况: what became of a branch's form (the submission stage), as the summary counts it."""

    ON_TIME = "按时提交"
    LATE = "逾期提交"
    RETURNED = "退回待重报"
    MISSING = "未报送"


class Mark(StrEnum):
    """A deliverable's ledger cell (toolkit.core.deliverables): received and fine, owed, or not acceptable."""

    DONE = "已交"
    MISSING = "缺"
    FAILED = "不合格"


NOT_HANDED_IN = "未交"  # a deliverable's blank cell, as status and the summary list what a branch owes
MARK_KINDS = {Mark.DONE: "passed", Mark.MISSING: "pending", Mark.FAILED: "returned"}  # the cell's colour

# Paper copies (纸质版): the ledger's columns, the stamp's 阶段 in the log, and what `status` says.
PAPER = "纸质版"
PAPER_COLUMNS = ("纸质版收到日期", "纸质版份数", "纸质版盖章")
SEALED = {True: "是", False: "否"}
PAPER_MISSING = "电子版已交，纸质版未交"
PAPER_SHORT = "纸质版不合要求"  # fewer copies than the notice asks, or no seal where it asks for one
PUBLICITY_OVER = "公示期满"  # a 公示 period has ended (nothing is stamped by itself: the office decides)
