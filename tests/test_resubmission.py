"""A form sent again after a 退回: on time (已提交) by the deadline the 退回 mail gave, even past the stage's
own due date; late (逾期提交) after that deadline, and always when the branch's form had already arrived
late (a 退回 does not undo lateness). `notify --send` writes the deadline at the head of the mail's
操作记录 row; the master's snapshot reads it back and the merge's planning uses it. A master whose mail
rows carry no deadline (written before it was recorded) counts RESEND_WORKDAYS working days from the
退回 stamp.

The rule alone (pure), then the snapshot and the planner over plain grids (the log rows built as the
commands write them), then the demo campaign through `notify --send` (a real SMTP server) and `merge`.
hospital-brand's 申报 is due on Saturday 2024-08-10."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from tests import builders as b
from tests.forms import form_values, logo_bytes, write_filled_form
from tests.smtpserver import smtp_server
from tests.test_notify import _log, _returned, _run_send, campaign, demo_campaign  # noqa: F401  (fixtures)
from toolkit.core import logsheet, stages
from toolkit.core import master as master_module
from toolkit.core.logsheet import LOG_COLUMNS, LogEntry
from toolkit.core.notices import Notice
from toolkit.core.plan import decide
from toolkit.core.vocabulary import LogAction, NoticeKind, Receipt

D = dt.date
P = b.profile("hospital-brand")
STAGE = P.submission_stage  # 申报, due 2024-08-10
RETURNED_ON = D(2024, 8, 12)  # Monday: RESEND_WORKDAYS working days later is Monday 2024-08-19
A, B, C = "内科第一党支部", "护理部党支部", "外科第一党支部"


# -- the rule (pure) -----------------------------------------------------------------------------------

@pytest.mark.parametrize("by, returned_on, late, day, expect", [
    (D(2024, 8, 30), RETURNED_ON, False, D(2024, 8, 30), Receipt.SUBMITTED),  # the mail's last day counts
    (D(2024, 8, 30), RETURNED_ON, False, D(2024, 8, 31), Receipt.LATE),
    (D(2024, 8, 30), RETURNED_ON, True, D(2024, 8, 20), Receipt.LATE),  # first copy late: stays late
    (None, RETURNED_ON, False, D(2024, 8, 19), Receipt.SUBMITTED),  # no mail recorded: 退回 + 5 working days
    (None, RETURNED_ON, False, D(2024, 8, 20), Receipt.LATE),
    (None, D(2024, 8, 9), None, D(2024, 8, 16), Receipt.SUBMITTED),  # returned before the due date: on time
    (None, RETURNED_ON, None, D(2024, 8, 14), Receipt.LATE),  # unknown, returned after it: may have been late
    (D(2024, 8, 30), None, None, D(2024, 8, 14), Receipt.LATE),  # a 退回 typed without a date, nothing known
    (D(2024, 8, 5), D(2024, 8, 1), False, D(2024, 8, 9), Receipt.SUBMITTED),  # the stage's due date still holds
], ids=["by the mail's deadline", "after it", "first copy late", "default window", "after the default window",
        "returned before the due date", "returned after the due date, lateness unknown", "undated 退回",
        "before the due date"])
def test_a_copy_after_a_return(by: dt.date | None, returned_on: dt.date | None, late: bool | None, day: dt.date,
                               expect: str) -> None:
    resend = stages.Resend(by, returned_on, late)
    assert stages.merge_receipt(P.statuses, STAGE, "退回", day, resend) == expect
    assert stages.merge_receipt(P.statuses, STAGE, "未通过", day, resend) == expect  # any status of the returned kind


def test_the_default_window_counts_working_days_on_the_official_calendar() -> None:
    """退回 on Friday 2024-09-27: Sunday 09-29 and Monday 09-30 are working days, National Day 10-01..07 not."""
    resend = stages.Resend(None, D(2024, 9, 27), False)
    assert stages.resend_deadline(resend) == D(2024, 10, 10)
    assert stages.merge_receipt(P.statuses, STAGE, "退回", D(2024, 10, 10), resend) == Receipt.SUBMITTED
    assert stages.merge_receipt(P.statuses, STAGE, "退回", D(2024, 10, 11), resend) == Receipt.LATE


# -- the snapshot and the planner over plain data ----------------------------------------------------------

NOW = dt.datetime(2024, 8, 12, 9, 0)


def _beijing(day: dt.date) -> str:
    return f"{day.isoformat()}T10:00:00+08:00"


def _returned_row(branch: str, copy: Any, when: dt.datetime = NOW) -> LogEntry:
    """What a merge logs when it returns `copy` (tests.builders.incoming) of `branch`."""
    prov = copy.checked.submission.provenance
    return LogEntry(when, "党办", LogAction.RETURNED, branch, STAGE.name, "", "“填表人”未填写",
                    Path(prov.path).name, prov.sha256)


def _mail_row(branch: str, by: dt.date | None, when: dt.datetime = NOW) -> LogEntry:
    """What `notify --send` logs for a 退回 mail: with `by`, as it does now; without, as older versions did."""
    notice = Notice(NoticeKind.RETURN, branch, "", STAGE.name, "", f"{branch}@example.org", f"【退回】{branch}", "")
    if by is None:
        return notice.log_entry(when, "党办")
    from toolkit.commands.notify import sent_entry

    return sent_entry(notice, when, "党办", by)


def _snapshot(cells: dict[str, str], log: list[LogEntry]) -> Any:
    """The master's snapshot (toolkit.core.master.snapshot, pure) of a ledger whose branches' 申报 cells
    hold `cells`, and an 操作记录 of `log`."""
    from toolkit.core.grid import Grid

    header = b.ledger_columns(P)
    rows = [[{P.key: branch, STAGE.column: cell}.get(c) for c in header] for branch, cell in cells.items()]
    grids = {P.ledger.sheet: Grid(P.ledger.sheet, [header, *rows]),
             P.ledger.log_sheet: Grid(P.ledger.log_sheet, [list(LOG_COLUMNS), *(e.cells() for e in log)])}
    return master_module.snapshot(b.SNAPSHOT_PATH, grids, P.id)


def _receipts(snap: Any, *items: Any, now: dt.datetime) -> dict[str, str | None]:
    return {d.branch: d.receipt for d in decide(snap, list(items), accept_warnings=False, now=now)
            if d.action in ("added", "updated")}


def test_the_deadline_the_mail_gave_and_lateness_before_it() -> None:
    """A: its first copy came on time and was returned; sent again by the mail's deadline, past the due
    date (and past the default window): 已提交. B: merged late, then returned by hand: stays 逾期提交.
    C: sent again after the mail's deadline: 逾期提交."""
    first_a = b.incoming(P, A, n=0, received=_beijing(D(2024, 8, 8)), findings=[b.finding("required")])
    first_c = b.incoming(P, C, n=2, received=_beijing(D(2024, 8, 9)), findings=[b.finding("required")])
    b_late = b.incoming(P, B, n=1, received=_beijing(D(2024, 8, 11)))
    late_b = b_late.checked.submission.provenance
    log = [_returned_row(A, first_a), _returned_row(C, first_c),
           LogEntry(NOW, "党办", LogAction.ADDED, B, f"{STAGE.name}：逾期提交", "", "品牌名称：…",
                    Path(late_b.path).name, late_b.sha256),
           LogEntry(NOW, "党办", LogAction.STAMPED, B, STAGE.name, "逾期提交 2024-08-11 党办",
                    "退回 2024-08-12 党办（材料不全）"),  # as `brandkit stamp --status 退回` logs it
           _mail_row(A, D(2024, 8, 30)), _mail_row(B, D(2024, 8, 30)), _mail_row(C, D(2024, 8, 16))]
    returned = "退回 2024-08-12 党办"
    snap = _snapshot({A: returned, B: returned, C: returned}, log)
    got = _receipts(snap, first_a, first_c,
                    b.incoming(P, A, n=3, received=_beijing(D(2024, 8, 26))),
                    b.incoming(P, B, n=4, received=_beijing(D(2024, 8, 20))),
                    b.incoming(P, C, n=5, received=_beijing(D(2024, 8, 20))), now=dt.datetime(2024, 8, 27, 9))
    assert got == {A: Receipt.SUBMITTED, B: Receipt.LATE, C: Receipt.LATE}


def test_a_master_whose_mails_recorded_no_deadline() -> None:
    """Mail rows written before the deadline was recorded: RESEND_WORKDAYS working days from the 退回
    stamp (2024-08-12 -> 2024-08-19). The returned copies are not in this merge; the log's receipt (A's
    已提交 before the office returned it) says it was on time."""
    log = [LogEntry(NOW, "党办", LogAction.ADDED, branch, f"{STAGE.name}：已提交", "", "品牌名称：…", "x.xlsx", b.sha(branch))
           for branch in (A, B)]
    log += [LogEntry(NOW, "党办", LogAction.STAMPED, branch, STAGE.name, "已提交 2024-08-08 党办", "退回 2024-08-12 党办")
            for branch in (A, B)]
    log += [_mail_row(A, None), _mail_row(B, None)]
    snap = _snapshot({A: "退回 2024-08-12 党办", B: "退回 2024-08-12 党办"}, log)
    got = _receipts(snap, b.incoming(P, A, n=3, received=_beijing(D(2024, 8, 19))),
                    b.incoming(P, B, n=4, received=_beijing(D(2024, 8, 20))), now=dt.datetime(2024, 8, 21, 9))
    assert got == {A: Receipt.SUBMITTED, B: Receipt.LATE}
    assert snap.resend_by == {}


def test_the_log_read_back_deadline_and_receipts() -> None:
    """The deadline is the last 退回 mail's after the branch's last 退回: a new 退回 (a merge's or a stamp's)
    drops the older mail's; a mail without one leaves none. The receipt is the last one logged."""
    from toolkit.core.grid import Grid

    first = b.incoming(P, A, n=0, received=_beijing(D(2024, 8, 8)))
    log = [_returned_row(A, first), _mail_row(A, D(2024, 8, 30)),
           _mail_row(B, D(2024, 8, 23)),
           LogEntry(NOW, "党办", LogAction.ADDED, C, f"{STAGE.name}：已提交", "", "", "c.xlsx", b.sha(C)),
           LogEntry(NOW, "党办", LogAction.UPDATED, C, f"{STAGE.name}：逾期提交", "", "", "c2.xlsx", b.sha(C + "2")),
           _mail_row(C, D(2024, 8, 30)), _returned_row(A, first, NOW + dt.timedelta(days=8)),
           LogEntry(NOW, "党办", LogAction.STAMPED, C, STAGE.name, "逾期提交 2024-08-11 党办", "退回 2024-08-20 党办")]
    grid = Grid(P.ledger.log_sheet, [list(LOG_COLUMNS), *(e.cells() for e in log)])
    resend_by, receipts = logsheet.returns_in_log(grid, P)
    assert resend_by == {_key(B): D(2024, 8, 23)}
    assert receipts == {_key(C): "逾期提交"}
    assert "重新报送期限 2024-08-30；收件人" in _mail_row(A, D(2024, 8, 30)).new


def _key(branch: str) -> str:
    from toolkit.core.text import normalize_branch

    return normalize_branch(branch)


# -- the demo campaign through the commands ----------------------------------------------------------------

def _resend_form(folder: Path, branch: str, n: int) -> Path:
    """A corrected form of `branch`, arriving now (its file time: no manifest line)."""
    folder.mkdir(parents=True, exist_ok=True)
    return write_filled_form(folder / f"重报_{branch}.xlsx", form_values(branch, f"先锋{n}号", "业务", 40 + n),
                             logo=logo_bytes())


def _stage_cells(master: Path) -> dict[str, str]:
    ws = openpyxl.load_workbook(master, read_only=True)[P.ledger.sheet]
    rows = [list(r) for r in ws.iter_rows(values_only=True)]
    header = rows[0]
    return {r[header.index(P.key)]: r[header.index(STAGE.column)] for r in rows[1:] if r[header.index(P.key)]}


@pytest.mark.slow
def test_notify_records_the_deadline_and_merge_keeps_to_it(campaign: Path, tmp_path: Path, cli) -> None:  # noqa: F811
    """The demo returned 机关第二党支部 (its form came on 2024-07-29) and 病理科党支部 (2024-08-18, after
    the due date) on 2024-08-27. The 退回 mails give a deadline a month from today; both send again today,
    long past the due date and the default window after the 退回: 机关第二 is on time, 病理科 stays late."""
    master = campaign / "品牌台账.xlsx"
    on_time, late = "机关第二党支部", "病理科党支部"
    assert {on_time, late} <= set(_returned(master))
    by = dt.date.today() + dt.timedelta(days=30)
    with smtp_server(tmp_path, "ssl") as box:
        _, done = _run_send(campaign, box.port, box.cert, "--only", "退回", "--by", by.isoformat())
        assert done.returncode == 0, done.stderr.decode()
        assert box.messages
    mailed = {r[3]: r[6] for r in _log(master) if r[2] == "发邮件" and r[4] == "申报：退回"}
    resent = campaign / "收件箱" / "重报"
    for n, branch in enumerate((on_time, late)):
        _resend_form(resent, branch, n)
    merged = cli("merge", master, campaign / "收件箱", "--by", "党办干事")
    assert merged.returncode == 1 and "新增 2 份" in merged.stdout, merged.stdout  # 1: the demo's other 退回 stand
    cells = _stage_cells(master)
    assert cells[on_time].startswith("已提交 "), cells[on_time]
    assert cells[late].startswith("逾期提交 "), cells[late]
    assert mailed[on_time].startswith(f"重新报送期限 {by.isoformat()}；收件人 ")  # what the merge read back
