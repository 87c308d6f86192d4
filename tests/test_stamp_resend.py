"""A hand stamp of 已提交 on a returned (退回) branch follows the merge's rule for a form sent again
(tests/test_resubmission.py): the corrected form handed in on paper, or sent outside brandkit's inbox,
is on time (已提交) until the deadline the 退回 mail gave — or, with no deadline recorded, RESEND_WORKDAYS
working days after the 退回 — even past the stage's own due date; late (逾期提交) after that deadline,
and always when the branch's first form was late.

Through the real CLI (`brandkit stamp`): the master is tests/test_stamp.py's, its branches returned by
`brandkit stamp --status 退回` itself, and the 退回 mails logged as `notify --send` logs them
(`sent_entry`); then the demo campaign, returned by hand, mailed by `notify --send` (a real SMTP server)
and stamped again.
hospital-brand's 申报 is due on Saturday 2024-08-10."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from tests.smtpserver import smtp_server
from tests.test_notify import _log, _run_send, campaign, demo_campaign  # noqa: F401  (fixtures)
from tests.test_resubmission import RETURNED_ON, STAGE, _mail_row, _stage_cells
from tests.test_resubmission import P as HOSPITAL
from tests.test_stamp import BRANCHES, apply_to_file, ledger_cells, make_master
from toolkit.core.changeset import ChangeSet
from toolkit.core.logsheet import LogEntry, append_log
from toolkit.files.masterfile import load_master

D = dt.date
ON_TIME, ALSO_ON_TIME, LATE_FIRST, NOT_RETURNED = "心内科党支部", "消化内科党支部", "普外科党支部", "骨科党支部"
assert {ON_TIME, ALSO_ON_TIME, LATE_FIRST, NOT_RETURNED} <= {b for _, b, *_ in BRANCHES}
MAIL_BY = D(2024, 8, 30)  # a Friday, well past the default window (2024-08-19)


def _stamp(cli, master: Path, status: str, branches: list[str], day: dt.date, *extra: str):
    args = ["stamp", master, "--stage", STAGE.name, "--status", status, "--date", day.isoformat(), "--by", "党办"]
    done = cli(*args, *(a for b in branches for a in ("--branch", b)), *extra)
    assert done.returncode == 0, done.stdout + done.stderr
    return done


def _returned_master(tmp_path: Path, cli) -> Path:
    """The first forms of ON_TIME and ALSO_ON_TIME came on time (已提交), LATE_FIRST's late (逾期提交,
    2024-08-11); the office adopts its master (`brandkit init`) and returns all three by hand on
    RETURNED_ON (Monday 2024-08-12)."""
    master = make_master(tmp_path / "台账.xlsx", HOSPITAL, stamps={ON_TIME: {"申报": "已提交"},
                                                                   ALSO_ON_TIME: {"申报": "已提交"}},
                         extra={LATE_FIRST: {STAGE.column: "逾期提交 2024-08-11 党办"}})
    adopted = cli("init", master, "--profile", HOSPITAL.id)  # the campaign recorded in the master, as the CLI needs
    assert adopted.returncode == 0, adopted.stdout + adopted.stderr
    _stamp(cli, master, "退回", [ON_TIME, ALSO_ON_TIME, LATE_FIRST], RETURNED_ON, "--force", "--note", "材料不全")
    return master


def _log_mails(master: Path, *mails: LogEntry) -> None:
    """Append the 退回 mails' 操作记录 rows to the master, as `notify --send` does."""
    snap = load_master(master, HOSPITAL.id)
    changes = ChangeSet()
    append_log(changes, HOSPITAL.ledger.log_sheet, snap.log_rows, list(mails))
    apply_to_file(master, changes)


def _cell(master: Path, branch: str) -> str:
    return str(ledger_cells(master, HOSPITAL)[branch][STAGE.column])


def test_by_the_deadline_the_mail_gave(tmp_path: Path, cli) -> None:
    """The mail's deadline 2024-08-30: handed in on its last day, 已提交 (the note says why); the next
    working day, 逾期提交."""
    master = _returned_master(tmp_path, cli)
    _log_mails(master, _mail_row(ON_TIME, MAIL_BY), _mail_row(ALSO_ON_TIME, MAIL_BY))
    done = _stamp(cli, master, "已提交", [ON_TIME], MAIL_BY)
    assert _cell(master, ON_TIME) == "已提交 2024-08-30 党办"
    assert f"重新报送期限 {MAIL_BY.isoformat()} 内补交，按“已提交”盖章" in done.stdout, done.stdout
    assert "按“逾期提交”盖章" not in done.stdout  # nothing was made late
    done = _stamp(cli, master, "已提交", [ALSO_ON_TIME], D(2024, 9, 2))
    assert _cell(master, ALSO_ON_TIME) == "逾期提交 2024-09-02 党办"
    assert "已过“申报”截止日期 2024-08-10，按“逾期提交”盖章" in done.stdout, done.stdout


@pytest.mark.parametrize("mailed", [False, True], ids=["no mail", "a mail that recorded no deadline"])
def test_the_default_window_when_no_mail_recorded_a_deadline(tmp_path: Path, cli, mailed: bool) -> None:
    """Returned on Monday 2024-08-12, nothing recorded the deadline (no mail yet, or one from before
    deadlines were recorded): 5 working days, to Monday 2024-08-19."""
    master = _returned_master(tmp_path, cli)
    if mailed:
        _log_mails(master, _mail_row(ON_TIME, None), _mail_row(ALSO_ON_TIME, None))
    done = _stamp(cli, master, "已提交", [ON_TIME], D(2024, 8, 19))
    assert _cell(master, ON_TIME) == "已提交 2024-08-19 党办"
    assert "重新报送期限 2024-08-19 内补交" in done.stdout, done.stdout
    _stamp(cli, master, "已提交", [ALSO_ON_TIME], D(2024, 8, 20))
    assert _cell(master, ALSO_ON_TIME) == "逾期提交 2024-08-20 党办"


def test_a_late_first_form_stays_late_and_others_are_stamped_as_before(tmp_path: Path, cli) -> None:
    """One stamp, within every deadline: ON_TIME is 已提交; LATE_FIRST, whose first form was late, stays
    逾期提交; NOT_RETURNED, never returned, is 逾期提交 as any 已提交 after the due date; a decision
    (党总支审批 已通过) is never made late."""
    master = _returned_master(tmp_path, cli)
    _log_mails(master, _mail_row(ON_TIME, MAIL_BY), _mail_row(LATE_FIRST, MAIL_BY))
    done = _stamp(cli, master, "已提交", [ON_TIME, LATE_FIRST, NOT_RETURNED], D(2024, 8, 20))
    cells = {b: str(v[STAGE.column]) for b, v in ledger_cells(master, HOSPITAL).items() if v[STAGE.column]}
    assert cells[ON_TIME] == "已提交 2024-08-20 党办"
    assert cells[LATE_FIRST] == "逾期提交 2024-08-20 党办"
    assert cells[NOT_RETURNED] == "逾期提交 2024-08-20 党办"
    notes = [line for line in done.stdout.splitlines() if line.startswith("说明")]
    assert len(notes) == 2, notes
    assert "2024-08-20 已过“申报”截止日期 2024-08-10，按“逾期提交”盖章" in notes[0]
    assert f"“{ON_TIME}”被退回后在重新报送期限 {MAIL_BY.isoformat()} 内补交" in notes[1]
    decided = cli("stamp", master, "--stage", "党总支审批", "--status", "已通过", "--branch", ON_TIME,
                  "--date", "2024-08-21", "--by", "党办")
    assert decided.returncode == 0 and "说明" not in decided.stdout, decided.stdout
    assert ledger_cells(master, HOSPITAL)[ON_TIME]["党总支审批状态"] == "已通过 2024-08-21 党办"


@pytest.mark.slow
def test_the_deadline_notify_s_mail_recorded(campaign: Path, tmp_path: Path, cli) -> None:  # noqa: F811
    """The demo merged 儿科党支部's form on time (已提交) and 心血管内科党支部's late (逾期提交). The office
    returns both by hand on 2024-09-02; `notify --send` mails the 退回 with a deadline a month from today.
    Both hand their forms in today, long past the due date and the default window (2024-09-09): 儿科 is
    已提交, 心血管内科 stays 逾期提交."""
    master = campaign / "品牌台账.xlsx"
    on_time, late = "儿科党支部", "心血管内科党支部"
    assert _stage_cells(master)[on_time].startswith("已提交 ") and _stage_cells(master)[late].startswith("逾期提交 ")
    returned = cli("stamp", master, "--stage", STAGE.name, "--status", "退回", "--branch", on_time, "--branch", late,
                   "--force", "--date", "2024-09-02", "--note", "品牌标识不清晰", "--by", "党办干事")
    assert returned.returncode == 0, returned.stdout + returned.stderr
    by = dt.date.today() + dt.timedelta(days=30)
    with smtp_server(tmp_path, "ssl") as box:
        _, done = _run_send(campaign, box.port, box.cert, "--only", "退回", "--by", by.isoformat())
        assert done.returncode == 0, done.stderr.decode()
    mailed = {r[3]: r[6] for r in _log(master) if r[2] == "发邮件" and r[4] == "申报：退回"}
    assert mailed[on_time].startswith(f"重新报送期限 {by.isoformat()}；"), mailed  # what the stamp reads back
    for branch in (on_time, late):
        stamped = cli("stamp", master, "--stage", STAGE.name, "--status", "已提交", "--branch", branch, "--by", "党办干事")
        assert stamped.returncode == 0, stamped.stdout + stamped.stderr
    cells = _stage_cells(master)
    assert cells[on_time].startswith("已提交 "), cells[on_time]
    assert cells[late].startswith("逾期提交 "), cells[late]
