"""Terminal output that leads somewhere: 新增 for a branch's first form, merge's short account (退回 first,
with reasons; fields only with -v), a 下一步 line at the end of each command, and a demo whose 校验 and
合并 agree."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.forms import BRANDS
from toolkit.core.model import china_today


def _roster(tmp_path: Path) -> Path:
    roster = tmp_path / "名单.csv"
    roster.write_text("党总支,党支部名称\n" + "".join(f"第一党总支,{b}\n" for b, _, _ in BRANDS), encoding="utf-8")
    return roster


def _last(text: str) -> str:
    return text.strip().splitlines()[-1]


def test_a_branchs_first_form_is_added_even_on_its_roster_row_then_updated(cli, tmp_path, make_form):
    master = tmp_path / "台账.xlsx"
    init = cli("init", master, "--profile", "hospital-brand", "--roster", _roster(tmp_path))
    assert _last(init.stdout).startswith("下一步：brandkit template --profile hospital-brand -o 申报表.xlsx")
    make_form(0, folder=tmp_path / "收件箱1")
    first = cli("merge", master, tmp_path / "收件箱1")
    assert "新增 1 份：内科第一党支部" in first.stdout and "更新" not in first.stdout
    assert _last(first.stdout) == f"下一步：brandkit status {master} 查看各支部进度，催报未提交的支部"
    make_form(0, folder=tmp_path / "收件箱2", 党员总数=99)
    again = cli("merge", master, tmp_path / "收件箱2")
    assert "更新 1 份：内科第一党支部" in again.stdout and "新增" not in again.stdout


def test_merge_tells_what_was_sent_back_first_and_fields_only_with_v(cli, tmp_path, make_form):
    master = tmp_path / "台账.xlsx"
    cli("init", master, "--profile", "hospital-brand", "--roster", _roster(tmp_path))
    inbox = tmp_path / "收件箱"
    make_form(0, folder=inbox)
    make_form(1, folder=inbox, 联系方式="139471234")
    make_form(2, folder=inbox, 品牌名称="十一个字的品牌名称很长")
    dry = cli("merge", master, inbox, "--dry-run")
    assert _last(dry.stdout) == f"下一步：去掉 --dry-run 再运行一次，把以上改动写入台账：brandkit merge {master} {inbox}"

    run = cli("merge", master, inbox)
    lines = run.stdout.splitlines()
    assert run.returncode == 1 and lines[0] == "退回 2 份："
    returned = lines[:lines.index("新增 1 份：内科第一党支部")]
    assert sum("原因：" in line for line in returned) == 2 and any("139471234" in line for line in returned)
    assert not any(line.startswith("    品牌名称：") for line in lines)  # no field details without -v
    assert "合计：退回 2，新增 1。（加 -v 可看各栏目的改动）" in lines
    assert _last(run.stdout) == f"下一步：brandkit notify {master} 把退回意见发给 2 个支部（附各自的校验结果）"

    master2 = tmp_path / "台账2.xlsx"
    cli("init", master2, "--profile", "hospital-brand", "--roster", _roster(tmp_path))
    verbose = cli("merge", master2, inbox, "-v")
    assert "新增 1 份：" in verbose.stdout and "    品牌名称：杏林先锋" in verbose.stdout
    assert "加 -v" not in verbose.stdout


def test_every_command_ends_with_what_to_do_next(cli, tmp_path, make_form):
    master = tmp_path / "台账.xlsx"
    cli("init", master, "--profile", "hospital-brand", "--roster", _roster(tmp_path))
    inbox = tmp_path / "收件箱"
    make_form(0, folder=inbox)
    make_form(1, folder=inbox, 联系方式="139471234")
    checked = cli("validate", inbox, "--master", master)
    assert _last(checked.stdout) == (f"下一步：brandkit merge {master} {inbox} 合并通过校验的 1 份，不通过的 1 份合并时退回，"
                                     f"再用 brandkit notify {master} 把校验结果发回支部")
    cli("merge", master, inbox)
    status = cli("status", master, "--date", china_today().isoformat())  # after the forms arrived, past the due date
    assert _last(status.stdout) == f"下一步：brandkit notify {master} 向 {len(BRANDS) - 1} 个未提交的支部催报"
    stamped = cli("stamp", master, "--stage", "党总支审批", "--status", "已通过", "--branch", "内科第一党支部")
    assert _last(stamped.stdout) == f"下一步：brandkit status {master} 查看各阶段进度"
    summary = cli("summary", master, "-o", tmp_path / "汇总.xlsx")
    assert _last(summary.stdout).startswith("下一步：把 ") and f"brandkit booklet {master} -o 品牌汇编.docx" in summary.stdout
    template = cli("template", "--profile", "hospital-brand", "-o", tmp_path / "申报表.xlsx")
    assert _last(template.stdout).startswith("下一步：把 ")
    booklet = cli("booklet", master, "-o", tmp_path / "汇编.docx")
    assert _last(booklet.stdout).startswith("下一步：用 Word 或 WPS 打开")
    undo = cli("undo", master)
    assert _last(undo.stdout) == f"下一步：brandkit status {master} 核对台账"


@pytest.mark.slow  # runs the demo or a whole campaign (seconds): make test, not make check
def test_the_demo_validates_against_its_master_so_check_and_merge_agree(cli, tmp_path):
    run = cli("demo", tmp_path / "demo")
    assert run.returncode == 0
    text = run.stdout
    assert text.index("新建台账") < text.index("校验申报表")
    ok, warned, failed, unreadable = map(int, re.search(r"通过 (\d+)，有警告 (\d+)，不通过 (\d+)，无法读取 (\d+)", text).groups())
    counts = dict((k, int(v)) for k, v in re.findall(r"(退回|新增|更新|暂缓) (\d+)", re.search(r"合计：(.*)", text).group(1)))
    assert counts == {"退回": failed + unreadable, "新增": ok + warned} == {"退回": 8, "新增": 10}
    assert "盖章：党总支审批 已通过 → 内科第一党支部、护理部党支部" in text
    assert _last(text) == f"下一步：brandkit notify {tmp_path / 'demo' / '品牌台账.xlsx'} 把退回意见发给 8 个支部（附各自的校验结果）"


def test_merge_of_an_inbox_without_forms_says_so(cli, tmp_path):
    master = tmp_path / "台账.xlsx"
    cli("init", master, "--profile", "hospital-brand", "--roster", _roster(tmp_path))
    inbox = tmp_path / "收件箱"
    inbox.mkdir()
    (inbox / "创建总结报告.txt").write_text("内科第一党支部创建总结", encoding="utf-8")
    run = cli("merge", master, inbox, "--dry-run")
    assert "合计：没有读到申报表。" in run.stdout.splitlines()
