"""What people see of the deliverables (issue #11 item 3): `brandkit validate` on a report gives a returned
report like a form's, and `merge` says in its terminal text which marks it made and which files it could
not place. The reports and photos are built by code (tests/test_deliverables.py)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.test_deliverables import (
    BRANCHES,
    PROFILE,
    SECTIONS,
    _form,
    _inbox_mail,
    _master,
    photo,
    report_docx,
)


def _sheet(path: Path, name: str) -> list[list[object]]:
    from python_calamine import CalamineWorkbook

    return CalamineWorkbook.from_path(str(path)).get_sheet_by_name(name).to_python()


def test_validate_returns_a_report_like_a_forms(tmp_path: Path, cli) -> None:  # noqa: ANN001 - fixture
    from toolkit.core.messages import title
    from toolkit.core.vocabulary import VERDICT_ZH, Mark

    folder = tmp_path / "材料"
    folder.mkdir()
    (folder / "成果报告.docx").write_bytes(report_docx(3200, [s for s in SECTIONS if s != "主要举措"]))
    out = tmp_path / "结果"
    got = cli("--json", "validate", folder / "成果报告.docx", "--profile", PROFILE, "--report-dir", out)
    assert got.returncode == 1  # rejected, like a form with errors
    [doc] = json.loads(got.stdout)["files"]
    assert doc["status"] == "error" and doc["deliverables"] == ["成果报告"]
    assert [f["rule"] for f in doc["findings"]] == ["max_chars", "missing_section"]
    marks = {m["deliverable"]: (m["branch"], m["mark"]) for m in json.loads(got.stdout)["deliverables"]}
    assert marks == {"成果报告": (None, Mark.FAILED), "工作照片": (None, Mark.MISSING)}  # what a merge would mark

    report = Path(doc["report"])
    assert report == out / "成果报告_校验结果.xlsx"
    rows = _sheet(report, "问题清单")
    assert "成果报告.docx" in str(rows[0][0]) and "需修改后重新提交" in str(rows[0][0])
    listed = [(r[1], r[2], r[4], r[5]) for r in rows[3:] if r[0] != ""]
    assert [(sev, field, rule) for sev, field, rule, _ in listed] == [
        ("错误", "成果报告", title("max_chars")), ("错误", "成果报告", title("missing_section"))]
    assert "3200 字" in listed[0][3] and "“主要举措”" in listed[1][3]
    summary = _sheet(out / "校验汇总.xlsx", "校验汇总")
    header = next(r for r in summary if "结论" in r)  # under the title lines
    [row] = [dict(zip(header, r, strict=False)) for r in summary if "成果报告.docx" in r]
    assert row["结论"] == VERDICT_ZH["error"] and row["错误数"] == 2

    text = cli("validate", folder / "成果报告.docx", "--profile", PROFILE).stdout  # the same in words
    assert f"{VERDICT_ZH['error']}  成果报告.docx  〔成果报告〕" in text
    assert f"成果报告：{Mark.FAILED}" in text and "共 1 份材料" in text and "主要举措" in text

    (folder / "成果报告.docx").write_bytes(report_docx(2800, photos=4))  # five parts, 2,800 字, 4 photos
    got = cli("--json", "validate", folder, "--profile", PROFILE, "--report-dir", out)
    assert got.returncode == 0
    [doc] = json.loads(got.stdout)["files"]
    assert (doc["status"], doc["findings"]) == ("ok", []) and doc["deliverables"] == ["成果报告", "工作照片"]
    assert {m["deliverable"]: m["mark"] for m in json.loads(got.stdout)["deliverables"]} == {
        "成果报告": Mark.DONE, "工作照片": Mark.DONE}
    summary = _sheet(out / "校验汇总.xlsx", "校验汇总")
    header = next(r for r in summary if "结论" in r)
    assert [dict(zip(header, r, strict=False))["结论"] for r in summary if "成果报告.docx" in r] == [VERDICT_ZH["ok"]]
    assert "未发现问题" in str(_sheet(Path(doc["report"]), "问题清单")[3][0])


def test_validate_counts_a_folders_photos_together_and_reads_forms_as_forms(tmp_path: Path, cli) -> None:  # noqa: ANN001
    """Loose photos are one set (two of 3–5, one too small); a text file of links is 新闻稿件; a form beside
    them is still a form."""
    folder = tmp_path / "材料"
    folder.mkdir()
    (folder / "照片1.jpg").write_bytes(photo(1))
    (folder / "照片2.jpg").write_bytes(photo(2, (640, 480)))
    (folder / "申报表.xlsx").write_bytes(_form(tmp_path, 0))
    (folder / "新闻.txt").write_text("https://news.example.edu.cn/1\n", encoding="utf-8")
    docs = {Path(d["path"]).name: d for d in json.loads(cli("--json", "validate", folder, "--profile", PROFILE).stdout)["files"]}
    assert docs["申报表.xlsx"]["status"] == "ok" and "deliverables" not in docs["申报表.xlsx"]
    assert [f["rule"] for f in docs["照片1.jpg"]["findings"]] == ["photo_count"]  # its own size is fine
    assert [f["rule"] for f in docs["照片2.jpg"]["findings"]] == ["photo_count", "photo_size"]
    assert docs["新闻.txt"]["deliverables"] == ["新闻稿件"]  # a list of links, not a 成果报告
    assert [f["rule"] for f in docs["新闻.txt"]["findings"]] == ["link_count"]


def test_merge_says_which_marks_it_made(tmp_path: Path, cli) -> None:  # noqa: ANN001 - fixture
    from toolkit.core.vocabulary import Mark

    master = _master(tmp_path)
    inbox = tmp_path / "inbox"
    for n in range(2):
        _inbox_mail(tmp_path, BRANCHES[n], n, {f"{BRANCHES[n]}申报表.xlsx": _form(tmp_path, n)}, day=15)
    assert cli("merge", master, inbox, "--by", "组织员").returncode == 0
    _inbox_mail(tmp_path, BRANCHES[0], 10, {"成果报告.docx": report_docx(3200, [s for s in SECTIONS if s != "主要举措"])})
    _inbox_mail(tmp_path, BRANCHES[1], 11, {"成果报告.docx": report_docx(2800, photos=3)})
    stray = tmp_path / "散件"
    stray.mkdir()
    (stray / "会议纪要.pdf").write_bytes(b"%PDF-1.4\n%x\n")
    text = cli("merge", master, inbox, stray, "--by", "组织员").stdout
    assert "材料：记入台账 4 项" in text
    assert f"{BRANCHES[0]}  成果报告：{Mark.FAILED}  ← 成果报告.docx" in text
    assert "原因：“成果报告”3200 字" in text and "缺少“主要举措”部分" in text
    assert f"{BRANCHES[0]}  工作照片：{Mark.MISSING}" in text
    assert f"{BRANCHES[1]}  成果报告：{Mark.DONE}" in text and f"{BRANCHES[1]}  工作照片：{Mark.DONE}" in text
    assert "未找到所属支部的文件：会议纪要.pdf" in text

    again = cli("merge", master, inbox, "--by", "组织员").stdout  # nothing new: nothing marked, and it says so
    assert "材料：记入台账 0 项（另有 4 项台账中已有记录，未改动）" in again


def test_photos_sent_in_an_earlier_mail_count(tmp_path: Path) -> None:
    """Two photos last week, two more now: the inbox keeps both mails and a merge of it counts four (3–5)."""
    from toolkit.commands.merge import merge
    from toolkit.core.vocabulary import Mark

    master = _master(tmp_path)
    inbox = _inbox_mail(tmp_path, BRANCHES[0], 0, {f"{BRANCHES[0]}申报表.xlsx": _form(tmp_path, 0)}, day=10)
    merge(master, [inbox], operator="组织员")
    _inbox_mail(tmp_path, BRANCHES[0], 1, {"成果报告.docx": report_docx(2800), "照片1.jpg": photo(1),
                                           "照片2.jpg": photo(2)}, day=13)
    first = {o.name: o for o in merge(master, [inbox], operator="组织员").deliverables.outcomes}
    assert first["工作照片"].mark == Mark.FAILED and "收到 2 张" in first["工作照片"].findings[0]
    _inbox_mail(tmp_path, BRANCHES[0], 2, {"照片3.jpg": photo(3), "照片4.jpg": photo(4)}, day=20)
    second = {o.name: o for o in merge(master, [inbox], operator="组织员").deliverables.outcomes}
    assert second["工作照片"].mark == Mark.DONE and second["工作照片"].written
    assert sorted(second["工作照片"].files) == ["照片1.jpg", "照片2.jpg", "照片3.jpg", "照片4.jpg"]
    assert second["成果报告"].mark == Mark.DONE and not second["成果报告"].written  # already marked


def test_a_form_and_its_report_in_one_mail_are_both_entered(tmp_path: Path) -> None:
    """The branch's row is added by this very merge: its report is marked on it, not left out."""
    from toolkit.commands.merge import merge
    from toolkit.core.vocabulary import Mark
    from toolkit.files.masterfile import load_master

    master = _master(tmp_path)
    inbox = _inbox_mail(tmp_path, BRANCHES[0], 0, {f"{BRANCHES[0]}申报表.xlsx": _form(tmp_path, 0),
                                                   "成果报告.docx": report_docx(2800, photos=3)})
    result = merge(master, [inbox], operator="组织员")
    assert result.names("added") == [BRANCHES[0]]
    assert {(o.name, o.mark, o.written) for o in result.deliverables.outcomes} == {
        ("成果报告", Mark.DONE, True), ("工作照片", Mark.DONE, True)}
    snap = load_master(master)
    [row] = [r for r in snap.ledger.by_branch().values() if r.branch == BRANCHES[0]] if snap.ledger else []
    assert str(row.values["成果报告"]).startswith(Mark.DONE) and str(row.values["工作照片"]).startswith(Mark.DONE)
