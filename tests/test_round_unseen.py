"""A campaign played over time (the probe's round): problems that close when a corrected form is merged,
a 退回 the office stamps by hand, final outcomes that are not returns, and table history kept as written.
Every master is made by init, merge and stamp."""

from __future__ import annotations

import datetime as dt
import email
import json
import os
import shutil
from email import policy
from pathlib import Path
from typing import Any

import pytest

from tests.forms import BRANDS, form_values, logo_bytes, write_filled_form, write_roster
from tests.test_tables import ACTIVITY_COLUMNS, write_form
from toolkit.core.profile import builtin_profiles, load_profile

pytestmark = pytest.mark.filterwarnings("ignore:Print area cannot be set:UserWarning")  # openpyxl: whole columns
ROOT = Path(__file__).resolve().parents[1]
BAD_PHONE = "139471234"


def _form(folder: Path, name: str, n: int, received: dt.datetime, **changes: Any) -> Path:
    folder.mkdir(exist_ok=True)
    path = write_filled_form(folder / name, {**form_values(*BRANDS[n], n), **changes}, logo=logo_bytes())
    os.utime(path, (received.timestamp(), received.timestamp()))
    return path


def _hospital(tmp_path: Path) -> Path:
    from toolkit.commands.init import init_master

    master = tmp_path / "台账.xlsx"
    roster = write_roster(tmp_path / "名单.xlsx", [("第一党总支", b) for b, _, _ in BRANDS[:3]])
    init_master(master, "hospital-brand", roster, operator="张三")
    return master


@pytest.fixture(scope="module")
def corrected(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """内科第一 and 护理部 sent a bad phone number on 08-05 (退回 on 08-06); 内科第一 sent a corrected
    form on 08-12, merged 08-13 (逾期提交); 护理部 never did."""
    from toolkit.commands.merge import merge

    folder = tmp_path_factory.mktemp("corrected")
    master, inbox = _hospital(folder), folder / "收件箱"
    for n in (0, 1):
        _form(inbox, f"{BRANDS[n][0]}.xlsx", n, dt.datetime(2024, 8, 5, 9, n), 联系方式=BAD_PHONE)
    merge(master, [inbox], operator="张三", now=dt.datetime(2024, 8, 6, 9, 0))
    _form(inbox, f"{BRANDS[0][0]}_修改.xlsx", 0, dt.datetime(2024, 8, 12, 9, 0))
    merge(master, [inbox], operator="张三", now=dt.datetime(2024, 8, 13, 9, 0))
    return master


@pytest.mark.parametrize("day", [dt.date(2024, 8, 31), None])
def test_problems_list_only_branches_still_returned(corrected: Path, tmp_path: Path, day: dt.date | None) -> None:
    import openpyxl

    from toolkit.commands.summary import summary

    result = summary(corrected, tmp_path / "汇总.xlsx", today=day)
    rows = [r for r in openpyxl.load_workbook(result.path)["问题汇总"].iter_rows(min_row=5, values_only=True) if r[1]]
    listed = {r[1]: (r[3], r[4]) for r in rows}
    assert BRANDS[0][0] not in listed  # its corrected form is in: nothing left to fix
    status, text = listed[BRANDS[1][0]]
    assert status == "退回" and BAD_PHONE in text
    assert all(r[4] != "—" for r in rows)


def _drafts(folder: Path) -> dict[str, email.message.EmailMessage]:
    return {p.stem: email.message_from_bytes(p.read_bytes(), policy=policy.default)  # type: ignore[misc]
            for p in folder.glob("*.eml")}


def test_a_return_stamped_by_hand_mails_the_ledgers_reason_without_a_report(tmp_path: Path, cli) -> None:
    from toolkit.commands.merge import merge

    master = tmp_path / "台账.xlsx"
    assert cli("init", master, "--profile", "dangjian-plus").returncode == 0
    inbox = tmp_path / "收件箱"
    inbox.mkdir()
    shutil.copy(ROOT / "samples/dangjian-plus/01_针灸科党支部.xlsx", inbox)
    merge(master, [inbox], operator="张三")
    stamped = cli("stamp", master, "--stage", "调查摸底", "--status", "退回", "--force", "--branch", "针灸科党支部",
                  "--note", "调查摸底情况过于简略，请补充走访数据")
    assert stamped.returncode == 0, stamped.stdout + stamped.stderr
    listed = cli("notify", master, "--dry-run")
    assert listed.returncode == 0 and "缺校验结果" not in listed.stdout and "退回  针灸科党支部" in listed.stdout
    assert cli("notify", master).returncode == 0
    mail = _drafts(tmp_path / "通知邮件")["退回_针灸科党支部"]
    body = mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "01_针灸科党支部.xlsx）经审核" in body and "1. 调查摸底情况过于简略，请补充走访数据" in body
    assert "附件" not in body and not list(mail.iter_attachments())


def test_a_return_by_hand_without_a_reason_says_the_office_will_explain(tmp_path: Path, cli) -> None:
    from toolkit.commands.merge import merge

    master, inbox = _hospital(tmp_path), tmp_path / "收件箱"
    _form(inbox, f"{BRANDS[0][0]}.xlsx", 0, dt.datetime(2024, 8, 5, 9, 0))
    merge(master, [inbox], operator="张三", now=dt.datetime(2024, 8, 6, 9, 0))
    assert cli("stamp", master, "--stage", "申报", "--status", "退回", "--force", "--branch", BRANDS[0][0]).returncode == 0
    listed = cli("--json", "notify", master, "--dry-run")
    plan = json.loads(listed.stdout)
    assert plan["no_report"] == [] and [n["branch"] for n in plan["no_address"] if n["kind"] == "退回"] == [BRANDS[0][0]]
    assert cli("notify", master).returncode == 0
    body = _drafts(tmp_path / "通知邮件")[f"退回_{BRANDS[0][0]}"].get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "现予退回，具体修改意见由" in body and "另行告知" in body and "存在以下问题" not in body


def test_not_selected_is_an_outcome_of_its_own_not_a_return(tmp_path: Path, cli) -> None:
    import openpyxl

    from toolkit.commands.merge import merge
    from toolkit.core.stages import KIND_FILLS

    master, inbox = _hospital(tmp_path), tmp_path / "收件箱"
    for n in (0, 1, 2):
        _form(inbox, f"{BRANDS[n][0]}.xlsx", n, dt.datetime(2024, 8, 5, 9, n))
    merge(master, [inbox], operator="张三", now=dt.datetime(2024, 8, 6, 9, 0))
    names = [b for b, _, _ in BRANDS[:3]]
    for stage, status, branches in (("党总支审批", "已通过", names), ("创建", "已完成", names),
                                    ("推荐", "已推荐", names[:2]), ("推荐", "未推荐", names[2:]),
                                    ("评选", "入选", names[:1]), ("评选", "未入选", names[1:2])):
        done = cli("stamp", master, "--stage", stage, "--status", status, *(a for b in branches for a in ("--branch", b)))
        assert done.returncode == 0 and "拒绝 0 个" in done.stdout, done.stdout + done.stderr
    counts = {s["阶段"]: s for s in json.loads(cli("--json", "status", master).stdout)["stages"]}
    assert counts["评选"]["退回"] == 0 and counts["评选"]["未入选"] == 1 and counts["评选"]["通过"] == 1
    assert counts["推荐"]["退回"] == 0 and counts["推荐"]["未入选"] == 1
    ws = openpyxl.load_workbook(master)["品牌台账"]
    header = [c.value for c in ws[1]]
    row = next(r for r in ws.iter_rows(min_row=2) if r[header.index("党支部名称")].value == names[1])
    assert row[header.index("评选状态")].fill.fgColor.rgb.endswith(KIND_FILLS["declined"])
    assert KIND_FILLS["declined"] != KIND_FILLS["returned"]
    assert "退回" not in cli("notify", master, "--dry-run").stdout


@pytest.mark.parametrize("name", builtin_profiles())
def test_no_profile_counts_a_final_outcome_as_a_return(name: str) -> None:
    kinds = load_profile(name).statuses
    for status in ("未推荐", "未入选", "未立项"):
        assert kinds.kind_of(status) in (None, "declined"), (name, status)


def test_table_history_keeps_whole_numbers_whole(tmp_path: Path, cli) -> None:
    import openpyxl

    master, inbox = tmp_path / "台账.xlsx", tmp_path / "收件箱"
    assert cli("init", master, "--profile", "dangjian-plus").returncode == 0
    fields = [("模式", "党建+志愿服务"), ("品牌名称", "银针暖心"), ("调查摸底情况", "支部走访群众，梳理服务短板，形成问题清单。"),
              ("工作举措", "组建党员志愿服务队。"), ("预期成效", "全年义诊服务群众1500人次。")]
    rows = [[dt.date(2024, 4, n), f"活动{n}", 10 + n, f"成效{n}"] for n in range(1, 5)]
    for name, items, when in (("v1.xlsx", rows, dt.datetime(2024, 4, 20)), ("v2.xlsx", rows[:2], dt.datetime(2024, 4, 25))):
        write_form(inbox / name, "针灸科党支部", "“党建+”支部品牌创建申报表", fields, "活动台帐", ACTIVITY_COLUMNS, items, when)
        assert cli("merge", master, inbox).returncode == 0
    ws = openpyxl.load_workbook(master)["活动台帐历史"]
    header = [c.value for c in ws[1]]
    kept = [r for r in ws.iter_rows(min_row=2, values_only=True) if r[0]]
    assert [(r[header.index("活动序号")], r[header.index("参与人数")]) for r in kept] == [(n, 10 + n) for n in range(1, 5)]
    assert all(type(r[header.index("参与人数")]) is int for r in kept)
