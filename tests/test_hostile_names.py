"""Hostile names and values (issue 14, items 4, 5, 7 and 9): every name brandkit writes fits Linux, macOS
and Windows; one bad file never costs the batch its reports; limits say so instead of dropping or
truncating; text from mail and forms reaches the terminal, file names and the master clean."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path

import openpyxl
import pytest
from python_calamine import CalamineWorkbook

from tests import mailfixtures as fx
from tests.forms import BRANDS, form_values, logo_bytes, write_filled_form
from toolkit.files.filenames import MAX_UNITS, safe_name

# Linux allows 255 bytes a name; a temp-file prefix or " (2)" must still fit beside ours.
ROOM = 255 - 40
# Excel refuses to open a path over 218 characters: what brandkit adds under a folder the user chose
# must leave a good part of that to the folder itself.
RELATIVE_UNITS = 180
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")


def units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def fits(name: str) -> bool:
    return (len(name.encode()) <= ROOM and units(name) <= MAX_UNITS + 8 and name == name.rstrip(" .")
            and not re.search(r'[<>:"/\\|?*\x00-\x1f]', name))


def eml(subject: str, sender: bytes, attachments: dict[str, bytes], msgid: str, day: int = 1) -> bytes:
    parts = [fx.part(b'attachment; filename="' + fx.word("UTF-8", name.encode()) + b'"', data)
             for name, data in attachments.items()]
    return fx.message(subject, sender, parts, msgid=msgid, date=fx._date(day))


def saved_files(inbox: Path) -> list[Path]:
    return sorted(p for p in inbox.rglob("*") if p.is_file() and not p.name.startswith((".", "inbox.jsonl")))


# -- item 4: long names -------------------------------------------------------------------------------

def test_intake_of_an_80_character_name_from_a_100_character_sender_twice(cli, tmp_path: Path) -> None:
    """The issue's case: "File name too long" on every later run. Both runs succeed; the second takes
    nothing; every name fits with room to spare and ends in a hash when shortened."""
    name = "中共某某医院内科第一党支部关于一支部一品牌创建活动的申报材料" * 3 + "（修改稿）二稿.xlsx"
    assert len(name.removesuffix(".xlsx")) >= 80
    sender = fx.word("UTF-8", ("张" * 100).encode()) + b" <zhang@hospital.cn>"
    form = fx.form_xlsx("内科第一党支部")
    (tmp_path / "long.eml").write_bytes(eml("申报材料", sender, {name: form}, "long@test"))
    inbox = tmp_path / "inbox"

    first = cli("intake", tmp_path / "long.eml", "-o", inbox)
    second = cli("intake", tmp_path / "long.eml", "-o", inbox)

    assert first.returncode == 0 and second.returncode == 0, first.stdout + first.stderr + second.stderr
    assert "此前已收取 1 封" in second.stdout
    [saved] = saved_files(inbox)
    assert saved.read_bytes() == form
    assert fits(saved.name) and fits(saved.parent.name), (saved.name, saved.parent.name)
    assert re.search(r"~[0-9a-f]{8}\.xlsx$", saved.name)
    assert units(saved.relative_to(inbox).as_posix()) <= RELATIVE_UNITS


def test_ascii_sender_and_name_leave_room_for_the_inbox_folder(tmp_path: Path) -> None:
    """One byte a character: the UTF-16 limit binds. Folder and file together must leave room for the
    inbox's own path under Windows' 260 characters (and Excel's 218)."""
    from toolkit.mail import intake

    name = "Application-form-of-the-internal-medicine-branch-" * 3 + ".xlsx"
    sender = b'"' + b"Internal Medicine Party Branch Secretary " * 3 + b'" <secretary@hospital.example.cn>'
    (tmp_path / "a.eml").write_bytes(eml("apply", sender, {name: fx.form_xlsx("a")}, "ascii@test"))
    report = intake([str(tmp_path / "a.eml")], tmp_path / "inbox")
    [saved] = [Path(a["path"]) for m in report.messages for a in m.attachments]
    rel = saved.relative_to((tmp_path / "inbox").resolve()).as_posix()
    assert units(rel) <= RELATIVE_UNITS, (units(rel), rel)
    assert fits(saved.name) and fits(saved.parent.name)


def test_long_zip_member_and_msg_attachment_names(tmp_path: Path) -> None:
    from toolkit.mail import intake

    member = "第一党支部" * 40 + ".xlsx"  # 600 bytes in GBK, 1000 in UTF-8
    zipped = fx.raw_zip({"材料/" + member: fx.form_xlsx("zip")})
    (tmp_path / "zip.eml").write_bytes(eml("zip", b"z@qq.com", {"材料.zip": zipped}, "zip@test"))
    (tmp_path / "long.msg").write_bytes(fx.outlook_msg("msg", "李" * 120, "li@qq.com",
                                                       {"表" * 150 + ".xlsx": fx.form_xlsx("msg")}))
    report = intake([str(tmp_path / "zip.eml"), str(tmp_path / "long.msg")], tmp_path / "inbox")
    assert report.errors == []
    paths = [Path(a["path"]) for m in report.messages for a in m.attachments]
    assert len(paths) == 2 and all(fits(p.name) and fits(p.parent.name) for p in paths), paths


@pytest.mark.skipif(not (shutil.which("unar") or shutil.which("bsdtar")), reason="no rar tool (unar, bsdtar)")
def test_a_rar_member_named_past_the_file_system_limit_costs_only_itself() -> None:
    """unar and bsdtar stop on a member whose name the file system refuses (an 86-字 name is 263 bytes):
    the members they did unpack are taken, and the archive is named with the reason."""
    from toolkit.mail import Limits
    from toolkit.mail.archives import collect

    short, long = fx.png(1), fx.png(2)  # not zips: stored zip members make libarchive take the rar for a zip
    data = fx.rar4({"第一党支部标识.png".encode(): short, ("第二党支部品牌标识" * 10).encode() + b".png": long})
    found, skipped = collect("材料.rar", data, Limits())
    assert [f.data for f in found] == [short]
    assert [s.name for s in skipped] == ["材料.rar"] and "文件名过长" in skipped[0].reason


def test_merge_of_a_263_character_branch_name(cli, tmp_path: Path) -> None:
    """The issue's case: the master was written, then keeping the logo original failed. The office
    lifted the length limit in 填报规则 (it may: the sheet wins over the profile)."""
    branch = "中共某某医院" + "内科第一党支部暨" * 32 + "a"
    assert len(branch) == 263
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    write_filled_form(inbox / "form.xlsx", form_values(branch, "杏林先锋", "内科"), logo=logo_bytes())
    master = tmp_path / "台账.xlsx"
    assert cli("init", master, "--profile", "hospital-brand").returncode == 0
    wb = openpyxl.load_workbook(master)
    ws = wb["填报规则"]
    header = [c.value for c in next(r for r in ws.iter_rows() if r[0].value == "字段")]
    row = next(r for r in ws.iter_rows() if r[0].value == "党支部名称")
    row[header.index("最多字数")].value = 1000
    wb.save(master)

    first = cli("--json", "merge", master, inbox)
    again = cli("--json", "merge", master, inbox)

    assert first.returncode == 0, first.stdout + first.stderr
    assert json.loads(first.stdout)["added"] == [branch]
    assert json.loads(again.stdout)["unchanged"] == [branch] and again.returncode == 0
    rows = CalamineWorkbook.from_path(str(master)).get_sheet_by_name("品牌台账").to_python()
    assert any(branch in r for r in rows)
    [original] = (tmp_path / "台账_标识").iterdir()
    assert fits(original.name) and re.search(r"~[0-9a-f]{8}\.png$", original.name), original.name


def test_long_names_differing_only_in_a_replaced_character_do_not_collide() -> None:
    base = "内科第一党支部申报材料" * 10
    assert safe_name(base + "/a.xlsx") != safe_name(base + ":a.xlsx")
    assert safe_name(base + "?", suffix=".png") != safe_name(base + "*", suffix=".png")


def test_branches_named_alike_but_for_a_replaced_character_keep_their_own_originals(cli, tmp_path: Path) -> None:
    """内科/外科党支部 and 内科:外科党支部 are two branches: each keeps its own logo original, and the
    booklet prints each its own (they shared one file, the second overwriting the first)."""
    import docx

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    colours = {"内科/外科党支部": (200, 30, 30), "内科:外科党支部": (30, 160, 30)}
    for n, (branch, colour) in enumerate(colours.items()):
        write_filled_form(inbox / f"{n}.xlsx", form_values(branch, f"品牌{n}", "内科", n), logo=logo_bytes(color=colour))
    master = tmp_path / "台账.xlsx"
    assert cli("init", master, "--profile", "hospital-brand").returncode == 0
    assert cli("merge", master, inbox, "--accept-warnings").returncode == 0
    kept = sorted((tmp_path / "台账_标识").iterdir())
    assert len(kept) == 2 and all(fits(p.name) for p in kept)
    assert cli("booklet", master, "-o", tmp_path / "汇编.docx").returncode == 0
    pictures = [r.target_part.blob for r in docx.Document(str(tmp_path / "汇编.docx")).part.rels.values()
                if "image" in r.reltype]
    assert {p.read_bytes() for p in kept} <= set(pictures)


def test_forms_named_alike_in_two_mails_get_two_reports(cli, tmp_path: Path) -> None:
    """Every branch calls its file 申报表.xlsx: intake keeps them in per-sender folders, and the
    reports must not overwrite each other (on Windows, nor when the names differ only in case)."""
    for n, folder in enumerate(("2024-08-01_a", "2024-08-02_b", "2024-08-03_c")):
        branch, brand, topic = BRANDS[n]
        name = "Form.xlsx" if n == 2 else "申报表.xlsx"
        (tmp_path / "in" / folder).mkdir(parents=True)
        write_filled_form(tmp_path / "in" / folder / name, form_values(branch, brand, topic, n))
    (tmp_path / "in" / "2024-08-04_d").mkdir()
    write_filled_form(tmp_path / "in" / "2024-08-04_d" / "form.xlsx", form_values(*BRANDS[3], 3))
    reports = tmp_path / "reports"
    proc = cli("validate", "--profile", "hospital-brand", tmp_path / "in", "--report-dir", reports)
    assert proc.returncode in (0, 1), proc.stderr
    written = [p for p in reports.iterdir() if p.name != "校验汇总.xlsx"]
    assert len({p.name.casefold() for p in written}) == 4, sorted(p.name for p in written)
    branches = set()
    for path in written:
        ws = openpyxl.load_workbook(path)["申报表"]
        branches |= {c.value for row in ws.iter_rows() for c in row} & {b for b, _, _ in BRANDS}
    assert branches == {b for b, _, _ in BRANDS}


# -- item 5: one bad file never aborts a batch ----------------------------------------------------------

def _rename_sheets(src: Path, dst: Path, names: list[str]) -> Path:
    """`src` with its first sheet renamed `names[0]` (a name a crafted file may carry and Excel would
    refuse) and a copy of it under each further name."""
    with zipfile.ZipFile(src) as zin:
        parts = {i.filename: zin.read(i.filename) for i in zin.infolist()}
    book = parts["xl/workbook.xml"].decode()
    sheets = re.findall(r"<sheet [^>]*/>", book)
    first = sheets[0]
    rels = parts["xl/_rels/workbook.xml.rels"].decode()
    types = parts["[Content_Types].xml"].decode()
    new = []
    for n, name in enumerate(names):
        if n == 0:
            tag = first
        else:  # a copy of the first sheet (its drawing too: the same rels)
            part = f"xl/worksheets/sheet{100 + n}.xml"
            parts[part] = parts["xl/worksheets/sheet1.xml"]
            if "xl/worksheets/_rels/sheet1.xml.rels" in parts:
                parts[f"xl/worksheets/_rels/sheet{100 + n}.xml.rels"] = parts["xl/worksheets/_rels/sheet1.xml.rels"]
            rels = rels.replace("</Relationships>", f'<Relationship Id="rIdX{n}" Type="http://schemas.openxmlformats'
                                f'.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet{100 + n}.xml"/>'
                                "</Relationships>")
            types = types.replace("</Types>", f'<Override PartName="/{part}" ContentType="application/vnd.openxml'
                                  'formats-officedocument.spreadsheetml.worksheet+xml"/></Types>')
            tag = re.sub(r'sheetId="\d+"', f'sheetId="{100 + n}"', first)
            tag = re.sub(r'r:id="[^"]+"', f'r:id="rIdX{n}"', tag)
        escaped = name.replace("&", "&amp;").replace("<", "&lt;").replace('"', "&quot;")
        new.append(re.sub(r'name="[^"]*"', lambda _m, e=escaped: f'name="{e}"', tag))
    parts["xl/workbook.xml"] = book.replace(first, "".join(new)).encode()
    parts["xl/_rels/workbook.xml.rels"] = rels.encode()
    parts["[Content_Types].xml"] = types.encode()
    with zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for name, data in parts.items():
            zout.writestr(name, data)
    return dst


def _csv(path: Path, rows: dict[str, object]) -> Path:
    with open(path, "w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(rows.items())
    return path


def _validate_batch(cli, tmp_path: Path, make: dict[str, Callable[[Path], object]]) -> tuple[str, Path]:
    """`validate --report-dir` over a good form, a file whose report cannot be written (a folder holds
    its name) and the files `make` writes (file name -> writer); every file but that one must get its
    report, one Excel accepts. (stdout, the report folder)."""
    inbox = tmp_path / "in"
    inbox.mkdir()
    write_filled_form(inbox / "good.xlsx", form_values(*BRANDS[0]), logo=logo_bytes())
    write_filled_form(inbox / "blocked.xlsx", form_values(*BRANDS[2], 2))
    for name, writer in make.items():
        writer(inbox / name)
    reports = tmp_path / "reports"
    (reports / "blocked_校验结果.xlsx").mkdir(parents=True)

    proc = cli("validate", "--profile", "hospital-brand", inbox, "--report-dir", reports)

    assert proc.returncode == 1 and "内部错误" not in proc.stderr, proc.stdout + proc.stderr
    for name in ["good.xlsx", *make]:
        path = reports / f"{Path(name).stem}_校验结果.xlsx"
        assert path.is_file(), (name, proc.stdout)
        wb = openpyxl.load_workbook(path)
        for title in wb.sheetnames:
            assert len(title) <= 31 and not re.search(r"[\\/*?:\[\]]", title) and title.lower() != "history"
        assert len({t.casefold() for t in wb.sheetnames}) == len(wb.sheetnames)
        assert wb.sheetnames[1:], name  # the branch's own sheets came back, marked: not the list alone
        for ws in wb.worksheets:
            for row in ws.iter_rows():
                for cell in row:
                    assert not (isinstance(cell.value, str) and len(cell.value) > 32_767)
    # the file whose report could not be written is named, with its reason, in the output and the summary
    assert re.search(r"blocked\.xlsx.*\n(.*\n)*?.*未能生成校验结果", proc.stdout), proc.stdout
    summary = openpyxl.load_workbook(reports / "校验汇总.xlsx")["校验汇总"]
    rows = {r[3]: r for r in summary.iter_rows(min_row=5, values_only=True)}  # under the title and date
    assert set(rows) == {"good.xlsx", "blocked.xlsx", *make}
    assert "未能生成" in rows["blocked.xlsx"][9] and "无法写入" in rows["blocked.xlsx"][9]
    return proc.stdout, reports


def test_a_slash_in_a_sheet_name_or_a_control_character_in_a_value_costs_no_report(cli, tmp_path: Path) -> None:
    """The issue's cases: each killed `validate --report-dir` for the whole batch."""
    other = write_filled_form(tmp_path / "other.xlsx", form_values(*BRANDS[1], 1))
    _validate_batch(cli, tmp_path, {
        "slash.xlsx": lambda path: _rename_sheets(other, path, ["申报/表"]),
        "control.csv": lambda path: _csv(path, {"党支部名称": "外科第一\x01党支部", "品牌名称": "精医\x1b铸魂",
                                                "党员总数": "3\x0b0", "联系方式": "138\x0212345678"}),
    })


@pytest.mark.slow  # a 20,000-column CSV and a 40,000-character cell
def test_other_report_killers(cli, tmp_path: Path) -> None:
    """Names Excel refuses (over 31 characters, "History", leading apostrophes), names that clash once
    made acceptable, a cell longer than a cell holds, a row wider than a sheet."""
    other = write_filled_form(tmp_path / "other.xlsx", form_values(*BRANDS[1], 1))
    _, reports = _validate_batch(cli, tmp_path, {
        "long_sheet.xlsx": lambda path: _rename_sheets(other, path, ["申报表" * 12]),
        "clash.xlsx": lambda path: _rename_sheets(other, path, ["申报/表", "申报:表", "History", "'引号'"]),
        "huge_cell.csv": lambda path: _csv(path, {"党支部名称": "机关第二党支部", "品牌内涵": "x" * 40_000}),
        "wide.csv": lambda path: path.write_text("党支部名称,外科第一党支部\n" + ",".join("x" * 20_000) + "\n",
                                                 encoding="utf-8"),
    })
    clash = openpyxl.load_workbook(reports / "clash_校验结果.xlsx")
    assert len(clash.sheetnames) == 5  # 问题清单 + four sheets, none lost to a clash
    links = [c.hyperlink.location for row in clash["问题清单"].iter_rows() for c in row if c.hyperlink]
    assert links and all(loc.split("!")[0].strip("'") in clash.sheetnames for loc in links)


# -- item 7: limits that say so ----------------------------------------------------------------------

def test_cell_over_excels_limit_is_an_error_whatever_the_count(cli, tmp_path: Path) -> None:
    """40,000 ASCII letters count as one 字 (Word counts a run of letters as one word), so max_chars
    says nothing; Excel cannot hold them in a cell, so the master would get them cut. (An .xlsx cannot
    carry them - Excel and openpyxl cut at 32,767 - but a CSV, an .ods or a Word form can.)"""
    form = _csv(tmp_path / "form.csv", form_values(*BRANDS[0]) | {"品牌内涵": "a" * 40_000})
    doc = json.loads(cli("--json", "validate", "--profile", "hospital-brand", form).stdout)
    findings = doc["files"][0]["findings"]
    [too_long] = [f for f in findings if f["rule"] == "cell_too_long"]
    assert too_long["severity"] == "error" and too_long["field"] == "品牌内涵"
    assert "40000" in too_long["message"] and "32767" in too_long["message"]
    assert doc["files"][0]["status"] == "error"


def test_cell_too_long_is_in_the_catalogue_and_the_readme() -> None:
    from toolkit.core.messages import RULES, message, title
    from toolkit.files.report import rule_name

    assert "cell_too_long" in RULES and rule_name("cell_too_long") == title("cell_too_long")
    assert title("cell_too_long") and "32767" in message("cell_too_long", field="品牌内涵", count=40000,
                                                           limit=32767)
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    assert "cell_too_long" in readme


def test_attachments_past_the_part_caps_are_named(tmp_path: Path) -> None:
    """1,000 parts in an .eml and 500 attachments in a .msg are read; every one past them is named."""
    from toolkit.mail import intake

    names = [f"说明{n:04d}.txt" for n in range(1005)]
    (tmp_path / "many.eml").write_bytes(eml("many", b"m@qq.com", {n: b"note" for n in names}, "many@test"))
    msg_names = [f"附件{n:03d}.txt" for n in range(505)]
    (tmp_path / "many.msg").write_bytes(fx.outlook_msg("many-msg", "王五", "w@qq.com",
                                                       {n: b"note" for n in msg_names}))
    report = intake([str(tmp_path / "many.eml"), str(tmp_path / "many.msg")], tmp_path / "inbox")

    by_subject = {m.subject: m for m in report.messages}
    for subject, expected, cap in (("many", names, "1000"), ("many-msg", msg_names, "500")):
        skipped = {s.name: s.reason for s in by_subject[subject].skipped}
        kept = {a["name"] for a in by_subject[subject].attachments}  # every file is kept: the first "note" is
        assert len(kept) <= 1 and set(expected) <= set(skipped) | kept, sorted(set(expected) - set(skipped))[:5]
        over = [n for n in expected if cap in skipped.get(n, "")]
        assert over and all("上限" in skipped[n] for n in over), subject
    assert report.has_rejections


def test_two_mails_with_one_message_id_are_both_taken(tmp_path: Path) -> None:
    """Message-IDs are made by the sender's client; some reuse them (a template, a broken client). The
    attachments' sha256 decides what is new, never the Message-ID alone."""
    from toolkit.mail import intake

    a, b = fx.form_xlsx("第一党支部"), fx.form_xlsx("第二党支部")
    (tmp_path / "mail").mkdir()
    (tmp_path / "mail" / "1.eml").write_bytes(eml("申报", b"one@qq.com", {"一支部.xlsx": a}, "same@client"))
    (tmp_path / "mail" / "2.eml").write_bytes(eml("申报", b"two@qq.com", {"二支部.xlsx": b}, "same@client", 2))
    inbox = tmp_path / "inbox"

    first = intake([str(tmp_path / "mail")], inbox)
    second = intake([str(tmp_path / "mail")], inbox)

    assert sorted(p.read_bytes() for p in saved_files(inbox)) == sorted([a, b])
    assert len(first.messages) == 2 and second.messages == [] and second.already_taken == 2


# -- item 9: clean text for terminals, file names and the master -----------------------------------------

@pytest.mark.parametrize(("raw", "safe"), [
    ("申报表\u202excod.xlsx", "申报表xcod.xlsx"),  # RIGHT-TO-LEFT OVERRIDE: would show as "申报表dokx.xlsx"
    ("\u2067第一\u2069党支部\u200f.png", "第一党支部.png"), ("a\u200e\u061c\u202ab\u202c.xls", "ab.xls"),
    ("名\x85称\x9b1m.xlsx", "名_称_1m.xlsx"),  # C1 controls (NEL, CSI)
    ("\ufeff申报表.xlsx", "申报表.xlsx"), ("\u202eCON.xlsx", "_CON.xlsx"), ("CON\u200b.xlsx", "_CON.xlsx"),
])
def test_saved_names_carry_no_bidi_or_control_characters(raw: str, safe: str) -> None:
    assert safe_name(raw) == safe


@pytest.mark.parametrize("device", ["CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$", *(f"COM{n}" for n in "0123456789¹²³"),
                                    *(f"LPT{n}" for n in "0123456789¹²³")])
@pytest.mark.parametrize("form", ["{}", "{}.xlsx", "{} .png", "{}.tar.gz", "{}. . ", " {}"])
def test_every_windows_device_name_is_renamed(device: str, form: str) -> None:
    for name in (form.format(device), form.format(device.lower())):
        safe = safe_name(name)
        assert safe.split(".")[0].rstrip(" ").upper() != device, (name, safe)
        assert fits(safe)


def _terminal_clean(text: str) -> bool:
    return not CONTROL.search(text.replace("\n", "").replace("\t", ""))


def test_intake_prints_hostile_subjects_and_names_escaped(cli, tmp_path: Path) -> None:
    osc = "\x1b]0;pwned\x07"  # sets the terminal's title; ESC [ 2 J would clear the screen
    name = f"申报{osc}\x1b[2J表\u202e.xlsx"
    subject_word = fx.word("UTF-8", f"申报\x9b31m材料\u202e{osc}".encode())
    raw = (fx.message("x", fx.word("UTF-8", "张\x1b[31m三".encode()) + b" <z@qq.com>",
                      [fx.part(b'attachment; filename="' + fx.word("UTF-8", name.encode()) + b'"',
                               fx.form_xlsx("a"))], msgid="esc@test", date=fx._date(1))
           .replace(fx.word("UTF-8", b"x"), subject_word))
    (tmp_path / "esc.eml").write_bytes(raw)

    proc = cli("intake", tmp_path / "esc.eml", "-o", tmp_path / "inbox")
    as_json = cli("--json", "intake", tmp_path / "esc.eml", "-o", tmp_path / "inbox2")

    assert proc.returncode == 0, proc.stderr
    assert _terminal_clean(proc.stdout + proc.stderr), repr(proc.stdout)
    assert "\\x1b" in proc.stdout and "申报" in proc.stdout  # shown escaped, not dropped
    assert _terminal_clean(as_json.stdout), repr(as_json.stdout)
    assert json.loads(as_json.stdout)["messages"][0]["subject"].startswith("申报")
    [saved] = saved_files(tmp_path / "inbox")
    assert _terminal_clean(saved.name) and _terminal_clean(saved.parent.name), saved


def test_validate_prints_hostile_file_names_and_values_escaped(cli, tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    _csv(folder / "申报\x1b]0;x\x07\u202e表.csv", {"党支部名称": "内科\x1b[2J第一党支部", "品牌名称": "杏林\u202e先锋",
                                                    "党员总数": "二十\x9b", "联系方式": "1381234\x1b5678"})
    proc = cli("validate", "--profile", "hospital-brand", folder)
    assert proc.returncode in (0, 1) and "内部错误" not in proc.stderr, proc.stderr
    assert _terminal_clean(proc.stdout + proc.stderr), repr(proc.stdout)
    assert "\\u202e" in proc.stdout


@pytest.mark.skipif(sys.platform != "linux", reason="a file name that is not UTF-8: Linux file systems only")
def test_a_file_name_that_is_not_utf8_is_printed_and_emitted(cli, tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    form = write_filled_form(folder / "a.xlsx", form_values(*BRANDS[0]))
    os.rename(form, os.fsencode(folder) + b"/\xff\xfe\xb1.xlsx")
    doc = cli("--json", "validate", "--profile", "hospital-brand", folder)
    assert doc.returncode in (0, 1) and "内部错误" not in doc.stderr, doc.stderr
    assert json.loads(doc.stdout)["files"][0]["path"].endswith("\udcff\udcfe\udcb1.xlsx")
    text = cli("validate", "--profile", "hospital-brand", folder, "--report-dir", tmp_path / "reports")
    assert "\\udcff\\udcfe\\udcb1.xlsx" in text.stdout and "内部错误" not in text.stderr
    assert "未能生成" not in text.stdout and (tmp_path / "reports" / "未命名_校验结果.xlsx").is_file()
    assert openpyxl.load_workbook(tmp_path / "reports" / "校验汇总.xlsx")["校验汇总"]["D5"].value == ".xlsx"


def test_escape_literals_in_values_reach_the_master_as_typed(cli, tmp_path: Path) -> None:
    """A branch typing `_x0041_` (or `_x000D_`) means those seven characters; Excel decodes the pattern
    in cell text, so the master must carry it escaped (`_x005F_x0041_`). Re-merging changes nothing."""
    from toolkit.ooxml.strings import t_element

    assert t_element("a_x0041_b_X000D_c_x000d_") == "<t>a_x005F_x0041_b_X000D_c_x005F_x000d_</t>"
    brand = "杏林_x0041_先锋"
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    # the form as Excel saves what the branch typed (openpyxl writes cell text as given)
    typed = form_values(BRANDS[0][0], "杏林_x005F_x0041_先锋", "内科") | {"填表人": "王_x005F_x000D_五"}
    write_filled_form(inbox / "f.xlsx", typed, logo=logo_bytes())
    master = tmp_path / "台账.xlsx"
    assert cli("init", master, "--profile", "hospital-brand").returncode == 0
    assert cli("merge", master, inbox).returncode == 0
    again = json.loads(cli("--json", "merge", master, inbox).stdout)
    rows = CalamineWorkbook.from_filelike(io.BytesIO(master.read_bytes())).get_sheet_by_name("品牌台账").to_python()
    cells = {c for r in rows for c in r if isinstance(c, str)}
    assert brand in cells and "王_x000D_五" in cells, sorted(cells)[:40]
    assert again["unchanged"] == [BRANDS[0][0]]


def test_shared_strings_index_reads_escaped_entries_as_their_text() -> None:
    """An entry Excel wrote as `_x005F_x0041_` is the text `_x0041_`: writing that text reuses it."""
    from tests.fixtures_masters import ledger, part
    from toolkit.core.changeset import CellWrite, ChangeSet
    from toolkit.ooxml import apply_changeset

    once = apply_changeset(ledger(), ChangeSet(writes=[CellWrite("台账", 1, 2, "_x0041_")]))
    twice = apply_changeset(once, ChangeSet(writes=[CellWrite("台账", 2, 2, "_x0041_")]))
    sst = part(twice, "xl/sharedStrings.xml").decode()
    assert sst.count("_x005F_x0041_") == 1 and "<t>_x0041_</t>" not in sst
