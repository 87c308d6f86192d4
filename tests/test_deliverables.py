"""Deliverables per stage (issue #11 item 3): what a stage must receive after the form, kept by intake,
matched to branches, checked with stable rule ids and marked in the ledger; status says who still owes.

Reports are built with python-docx and photos with Pillow here; nothing is read from outside the repo."""

from __future__ import annotations

import datetime as dt
import io
import json
from pathlib import Path

import pytest

from tests import mailfixtures as fx
from tests.notice_forms import college_feature, write_docx, write_xlsx

PROFILE = "college-feature"
SECTIONS = ["品牌名称", "创建背景", "品牌内涵", "主要举措", "取得成效"]
BRANCHES = ["信息学院第一党支部", "信息学院第二党支部", "信息学院第三党支部"]


def report_docx(chars: int, sections: list[str] = SECTIONS, photos: int = 0, links: tuple[str, ...] = ()) -> bytes:
    """A 成果报告 of `chars` 字 (headings included, as Word counts them) with `sections` as headings."""
    import docx

    doc = docx.Document()
    heads = [f"{'一二三四五六'[i]}、{s}" for i, s in enumerate(sections)]
    body = chars - sum(len(h) for h in heads)
    for i, head in enumerate(heads):
        doc.add_heading(head, level=2)
        doc.add_paragraph("党" * (body // len(heads) + (i < body % len(heads))))
    for n in range(photos):
        doc.add_picture(io.BytesIO(photo(n)))
    for link in links:
        doc.add_paragraph(link)
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def photo(seed: int, size: tuple[int, int] = (1024, 768)) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", size, (seed * 40 % 256, 90, 140)).save(buf, "JPEG")
    return buf.getvalue()


def eml(subject: str, sender: bytes, files: dict[str, bytes], msgid: str, day: int = 20) -> bytes:
    parts = [fx.part(b'attachment; filename="' + fx.word("UTF-8", name.encode()) + b'"', data)
             for name, data in files.items()]
    return fx.message(subject, sender, parts, msgid=msgid, date=f"Sat, {day:02d} Jan 2024 09:30:00 +0800")


def read(path: Path):  # noqa: ANN201 - a Received
    from toolkit.core.profile import load_profile
    from toolkit.readers.deliverable import read_deliverable

    return read_deliverable(str(path), load_profile(PROFILE))


def test_a_long_report_without_one_part_gets_two_findings(tmp_path: Path) -> None:
    from toolkit.core.deliverables import judge
    from toolkit.core.profile import load_profile

    spec = load_profile(PROFILE).deliverables[0]
    assert (spec.name, spec.max_chars, spec.sections) == ("成果报告", 3000, tuple(SECTIONS))  # the notice's words
    path = tmp_path / "成果报告.docx"
    path.write_bytes(report_docx(3200, [s for s in SECTIONS if s != "主要举措"]))
    j = judge(spec, [read(path)], "word")
    assert [(f.rule, f.severity) for f in j.findings] == [("max_chars", "error"), ("missing_section", "error")]
    assert "3200 字" in j.findings[0].message and "“主要举措”" in j.findings[1].message

    path.write_bytes(report_docx(2800, photos=4))
    got = read(path)
    assert len(got.pictures) == 4 and all(w == 1024 for w, _ in got.pictures)
    assert judge(spec, [got], "word").findings == []


def test_photos_and_links_are_counted_and_sized(tmp_path: Path) -> None:
    from toolkit.core.deliverables import judge
    from toolkit.core.profile import load_profile

    _, photos, news = load_profile(PROFILE).deliverables
    files = []
    for n, size in enumerate([(1024, 768), (640, 480)]):
        (tmp_path / f"{n}.jpg").write_bytes(photo(n, size))
        files.append(read(tmp_path / f"{n}.jpg"))
    rules = [f.rule for f in judge(photos, files, "word").findings]
    assert rules == ["photo_count", "photo_size"]  # 2 of 3–5, and 640 px is under 800 on the long side
    (tmp_path / "新闻.txt").write_text("学院新闻网 https://news.example.edu.cn/a/1.html\n", encoding="gbk")
    text = read(tmp_path / "新闻.txt")
    assert text.links == ("https://news.example.edu.cn/a/1.html",)
    assert [f.rule for f in judge(news, [text], "word").findings] == ["link_count"]


def _master(tmp_path: Path) -> Path:
    from toolkit.commands.init import init_master

    master = tmp_path / "台账.xlsx"
    init_master(master, PROFILE, None, operator="组织员")
    return master


def _inbox_mail(tmp_path: Path, branch: str, n: int, files: dict[str, bytes], day: int = 20) -> Path:
    """One branch's mail taken in by intake: the inbox folder with its manifest."""
    from toolkit.mail import intake

    sender = f"b{BRANCHES.index(branch)}@bjut.test".encode()  # each branch writes from its own address
    raw = eml(f"{branch}材料", sender, files, f"m{n}@test", day)
    mail = tmp_path / "mail" / f"{n}.eml"
    mail.parent.mkdir(exist_ok=True)
    mail.write_bytes(raw)
    report = intake([str(mail)], tmp_path / "inbox")
    assert report.errors == []
    return tmp_path / "inbox"


def _form(tmp_path: Path, n: int) -> bytes:
    return write_xlsx(college_feature(BRANCHES[n], n), tmp_path / f"form{n}.xlsx").read_bytes()


def test_merge_marks_the_ledger_and_status_lists_who_owes(tmp_path: Path) -> None:
    from toolkit.commands.merge import merge
    from toolkit.commands.status import progress, read_log, render_status, status_json
    from toolkit.files.masterfile import load_master

    master = _master(tmp_path)
    now = dt.datetime(2024, 1, 20, 10, 0)
    inbox = tmp_path / "inbox"
    for n in range(3):
        _inbox_mail(tmp_path, BRANCHES[n], n, {f"{BRANCHES[n]}申报表.xlsx": _form(tmp_path, n)}, day=15)
    first = merge(master, [inbox], operator="组织员", now=now)
    assert sorted(first.names("added")) == sorted(BRANCHES)
    # 第一 (matched by its sender): too long and without 主要举措; 第二 (by the file name): five parts,
    # 2,800 字 and four photos sent beside it
    _inbox_mail(tmp_path, BRANCHES[0], 10, {"成果报告.docx": report_docx(3200, [s for s in SECTIONS if s != "主要举措"])})
    _inbox_mail(tmp_path, BRANCHES[1], 11, {"信息学院第二党支部成果报告.docx": report_docx(2800),
                                            **{f"活动照片{k}.jpg": photo(k) for k in range(4)}})
    result = merge(master, [inbox], operator="组织员", now=now)
    assert result.names("added") == [] and result.rejected == []  # the reports are not returned as forms
    marks = {(o.branch, o.name): o for o in result.deliverables.outcomes}
    bad = marks[(BRANCHES[0], "成果报告")]
    assert bad.mark == "不合格" and len(bad.findings) == 2 and bad.written
    assert marks[(BRANCHES[0], "工作照片")].mark == "缺"
    assert marks[(BRANCHES[1], "成果报告")].mark == "已交" and marks[(BRANCHES[1], "工作照片")].mark == "已交"
    assert result.deliverables.unmatched == []

    snap = load_master(master)
    rows = snap.ledger.by_branch() if snap.ledger else {}
    cell = {b: rows[k].values for b in BRANCHES for k in rows if rows[k].branch == b}
    assert str(cell[BRANCHES[0]]["成果报告"]).startswith("不合格 2024-") and "主要举措" in cell[BRANCHES[0]]["成果报告"]
    assert str(cell[BRANCHES[1]]["成果报告"]).startswith("已交 2024-")
    assert cell[BRANCHES[2]].get("成果报告") in (None, "")

    p = progress(snap, dt.date(2024, 1, 20), read_log(snap))
    owed = {(o.deliverable, o.branch): o.state for o in p.owed}
    assert owed[("成果报告", BRANCHES[0])].startswith("不合格") and owed[("成果报告", BRANCHES[2])] == "未交"
    assert ("成果报告", BRANCHES[1]) not in owed and ("工作照片", BRANCHES[1]) not in owed
    text = render_status(p)
    assert "待交材料" in text and BRANCHES[2] in text
    doc = json.loads(json.dumps(status_json(p), ensure_ascii=False))
    assert {d["branch"] for d in doc["owed"] if d["deliverable"] == "成果报告"} == {BRANCHES[0], BRANCHES[2]}

    from toolkit.commands.summary import write_summary

    book = write_summary(snap, tmp_path / "汇总.xlsx", today=dt.date(2024, 1, 20), log_rows=read_log(snap)).path
    from python_calamine import CalamineWorkbook

    rows = CalamineWorkbook.from_path(str(book)).get_sheet_by_name("待交材料").to_python()
    assert {(r[1], r[3]) for r in rows[4:]} >= {(BRANCHES[0], "成果报告"), (BRANCHES[2], "成果报告")}

    again = merge(master, [inbox], operator="组织员", now=now)  # the same inbox again changes nothing
    assert not again.changes


def test_intake_keeps_every_attachment_and_lists_it(tmp_path: Path) -> None:
    """A mail with a form, a .docx report, a .pdf, two photos and a .txt: every file saved and in the
    manifest, nothing skipped."""
    from toolkit.mail import intake, read_manifest

    files = {"申报表.xlsx": _form(tmp_path, 0), "成果报告.docx": report_docx(1500), "通知回执.pdf": b"%PDF-1.4\n%x\n",
             "照片1.jpg": photo(1), "照片2.jpg": photo(2), "新闻链接.txt": b"https://a.example/1"}
    mail = tmp_path / "1.eml"
    mail.write_bytes(eml("材料", b"one@bjut.test", files, "one@test"))
    report = intake([str(mail)], tmp_path / "inbox")
    [msg] = report.messages
    assert msg.skipped == [] and not report.has_rejections
    assert sorted(a["name"] for a in msg.attachments) == sorted(files)
    manifest = read_manifest(tmp_path / "inbox")
    assert sorted(r["name"] for r in manifest.values()) == sorted(files)
    for path, record in manifest.items():
        assert Path(path).read_bytes() == files[record["name"]]


@pytest.mark.libreoffice
def test_ledger_marks_read_back_in_libreoffice(tmp_path: Path) -> None:
    from tests.libreoffice import roundtrip_values
    from toolkit.commands.merge import merge
    from toolkit.core.profile import load_profile

    master = _master(tmp_path)
    now = dt.datetime(2024, 1, 20, 10, 0)
    _inbox_mail(tmp_path, BRANCHES[0], 0, {f"{BRANCHES[0]}申报表.docx": write_docx(
        college_feature(BRANCHES[0], 0), tmp_path / "f.docx").read_bytes()}, day=15)
    merge(master, [tmp_path / "inbox"], operator="组织员", now=now)
    _inbox_mail(tmp_path, BRANCHES[0], 1, {"成果报告.docx": report_docx(2800, photos=3),
                                           "新闻.txt": b"https://news.example.edu.cn/1 https://news.example.edu.cn/2"})
    merge(master, [tmp_path / "inbox"], operator="组织员", now=now)
    sheet = load_profile(PROFILE).ledger.sheet
    values = roundtrip_values(master)
    header = values[sheet][0]
    row = next(r for r in values[sheet][1:] if r[header.index("党支部名称")] == BRANCHES[0])
    assert str(row[header.index("成果报告")]).startswith("已交 2024-01-20")
    assert str(row[header.index("工作照片")]).startswith("已交 2024-01-20")  # three photos inside the report
    assert str(row[header.index("新闻稿件")]).startswith("已交 2024-01-20")
    log = values["操作记录"]
    assert sum(1 for r in log if "交材料" in r) == 3
