"""One notion of "submitted", the roster kept, values as branches write them (issue 10, items 4–6).

university-project and dangjian-plus are merged for real from a roster: `status --json` and the
summary's 未提交名单 must list exactly the branches whose form has not arrived (a returned one included),
with the roster's contacts, the 必须参与 ones flagged, and nobody late before the due date. Then the
values people write: dates without a year, the office's own 7-digit phone number, and a logo sent as a
separate picture in the same mail.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.builders import profile, sample_value, submission
from tests.forms import BRANDS, form_values, logo_bytes, write_filled_form
from tests.mailfixtures import message, part, pct
from toolkit.core.model import Picture, Submission, Value


@dataclass(frozen=True)
class Campaign:
    profile: str
    heading: list[str]  # the roster file's header row, as this office wrote it
    rows: list[tuple[Any, ...]]  # group, branch, 类别, then the columns after them in `heading`
    must: set[str]  # branches that must take part (by the roster's flag or their 类别)
    contacts: dict[str, tuple[str, str]]  # branch -> (who, phone) the 未提交名单 should show
    received: dt.datetime  # when the merged forms arrived (before the due date)
    before: dt.date  # a day before the due date
    after: dt.date  # a day after it


CAMPAIGNS = [
    Campaign(
        "university-project",
        ["所属基层党委", "党支部名称", "类别", "支部书记", "联系电话"],
        [("机械学院党委", "机械学院教工第一党支部", "省级样板支部", "王建国", 13904710001),
         ("机械学院党委", "机械学院教工第二党支部", "其他", "李红", "13904710002"),
         ("外国语学院党委", "外国语学院学生党支部", "“双带头人”教师党支部书记工作室", "赵敏", "0471-3831312"),
         ("外国语学院党委", "外国语学院教工党支部", "培育对象", "钱进", "13904710004"),
         ("医学院党委", "医学院临床第一党支部", "校级样板支部", "孙立", "13904710005"),
         ("医学院党委", "医学院学生第二党支部", "其他", "周洁", "13904710006")],
        {"外国语学院学生党支部", "外国语学院教工党支部", "医学院临床第一党支部"},  # 机械一 must too, but merges
        {"外国语学院学生党支部": ("赵敏", "0471-3831312"), "外国语学院教工党支部": ("钱进", "13904710004"),
         "医学院临床第一党支部": ("孙立", "13904710005"), "医学院学生第二党支部": ("周洁", "13904710006")},
        dt.datetime(2023, 11, 1, 9, 30), dt.date(2023, 11, 5), dt.date(2023, 11, 20)),
    Campaign(
        "dangjian-plus",
        ["党总支", "党支部名称", "类别", "必须参与", "联系人", "电话"],
        [("第一党总支", "针灸科党支部", "临床", "是", "吴刚", "13851810001"),
         ("第一党总支", "信息科党支部", "机关", "否", "郑芳", "13851810002"),
         ("第一党总支", "骨伤科党支部", "临床", "是", "王强", "13851810003"),
         ("第二党总支", "药剂科党支部", "医技", "否", "冯丽", "13851810004"),
         ("第二党总支", "护理部党支部", "机关", "是", "陈静", "13851810005")],
        {"骨伤科党支部", "护理部党支部"},
        {"骨伤科党支部": ("王强", "13851810003"), "药剂科党支部": ("冯丽", "13851810004"),
         "护理部党支部": ("陈静", "13851810005")},
        dt.datetime(2024, 4, 20, 9, 30), dt.date(2024, 4, 25), dt.date(2024, 5, 10)),
]
MERGED = (0, 1)  # the roster rows whose forms are merged
RETURNED = 3  # the roster row whose form is rejected (退回): it has not submitted


def _roster(path: Path, c: Campaign) -> Path:
    import xlsxwriter

    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("名单")
    ws.write_row(0, 0, c.heading)
    for n, row in enumerate(c.rows, start=1):
        ws.write_row(n, 0, row)
    wb.close()
    return path


def _form(path: Path, c: Campaign, n: int, **overrides: Any) -> Path:
    """The campaign's form for roster row `n`, every field filled (the template's cells), received then."""
    p = profile(c.profile)
    group, branch, category = c.rows[n][:3]
    values = {f.name: sample_value(p, f.name, n) for f in p.fields if f.type != "image"}
    values[p.key] = branch
    if p.field(p.group):
        values[p.group] = group
    if c.profile == "university-project":
        values["支部类别"] = category
    values.update(overrides)
    write_filled_form(path, values, c.profile)
    when = c.received.timestamp()
    os.utime(path, (when, when))
    return path


def _cli(*args: str, exit_code: int = 0) -> Any:
    """`brandkit ARGS` in-process: the JSON document with --json, else the text."""
    from click.testing import CliRunner

    from toolkit.cli import main

    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    assert result.exit_code == exit_code, result.output
    return json.loads(result.stdout_bytes) if "--json" in args else result.stdout_bytes.decode()


@pytest.fixture(scope="module", params=CAMPAIGNS, ids=lambda c: c.profile)
def campaign(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[Campaign, Path]:
    """init --roster, then two branches' forms merged and a third rejected (退回)."""
    from toolkit.commands.init import init_master
    from toolkit.commands.merge import merge

    c: Campaign = request.param
    folder = tmp_path_factory.mktemp(c.profile)
    master = folder / "台账.xlsx"
    init_master(master, c.profile, _roster(folder / "名单.xlsx", c), operator="党办干事")
    inbox = folder / "收件箱"
    inbox.mkdir()
    for n in MERGED:
        _form(inbox / f"{n}.xlsx", c, n)
    _form(inbox / "bad.xlsx", c, RETURNED, 品牌名称=None)  # a required field left blank: rejected
    result = merge(master, [inbox], operator="党办干事", now=c.received + dt.timedelta(days=1))
    assert sorted(result.names("added") + result.names("updated")) == sorted(c.rows[n][1] for n in MERGED), \
        result.to_json()
    assert [o.branch for o in result.rejected] == [c.rows[RETURNED][1]]
    return c, master


def _others(c: Campaign) -> set[str]:
    return {row[1] for n, row in enumerate(c.rows) if n not in MERGED}


def test_status_json_lists_exactly_the_others(campaign: tuple[Campaign, Path]) -> None:
    c, master = campaign
    doc = _cli("--json", "status", str(master), "--date", c.before.isoformat())
    stage = profile(c.profile).submission_stage
    assert doc["submission_stage"]["name"] == stage.name and doc["submission_stage"]["days_left"] > 0
    assert sorted(doc["missing"]) == sorted(_others(c))
    assert doc["late"] == []  # before the due date nobody is late, and the merged forms came in time
    assert set(doc["must_join_missing"]) == c.must
    details = {d["branch"]: d for d in doc["missing_details"]}
    assert details[c.rows[RETURNED][1]]["status"] == "退回"
    assert {b: (d["contact"], d["phone"]) for b, d in details.items() if b in c.contacts} == c.contacts
    total = next(g for g in doc["groups"] if g["党总支"] == "合计")
    assert (total["支部数"], total["已提交"], total["未提交"]) == (len(c.rows), len(MERGED), len(_others(c)))
    late = _cli("--json", "status", str(master), "--date", c.after.isoformat())
    assert sorted(late["late"]) == sorted(_others(c))
    assert all(d["days_late"] == (c.after - stage.due).days for d in late["missing_details"])
    from toolkit.commands.status import status

    issues = status(master, today=c.after).issues  # the summary's 问题汇总: must-join and past due
    assert {i.branch for i in issues if "必须参与" in i.text} == c.must


def test_summary_missing_list_lists_exactly_the_others_with_roster_contacts(
        campaign: tuple[Campaign, Path], tmp_path: Path) -> None:
    import openpyxl

    c, master = campaign
    out = tmp_path / "汇总.xlsx"
    _cli("summary", str(master), "-o", str(out), "--date", c.before.isoformat())
    ws = openpyxl.load_workbook(out, read_only=True)["未提交名单"]
    rows = [list(r) for r in ws.iter_rows(values_only=True)]
    assert rows[3] == ["党总支", "党支部", "报送情况", "逾期情况", "必须参与", "联系人", "联系方式", "邮箱", "退回原因"]
    listed = {r[1]: r for r in rows[4:] if r and r[1]}
    assert set(listed) == _others(c)
    assert {b: (r[5], r[6]) for b, r in listed.items() if b in c.contacts} == c.contacts
    assert {b for b, r in listed.items() if r[4] == "是"} == c.must
    assert all(r[3] == "未到截止" for r in listed.values())
    assert listed[c.rows[RETURNED][1]][2] == "退回待重报"
    assert f"其中必须参与 {len(c.must)} 个" in rows[1][0]


def test_the_master_keeps_the_roster_and_stamps_only_the_form_stage(campaign: tuple[Campaign, Path]) -> None:
    import openpyxl

    c, master = campaign
    p = profile(c.profile)
    wb = openpyxl.load_workbook(master, read_only=True)
    kept = [list(r) for r in wb["支部名单"].iter_rows(values_only=True)]
    assert kept[0][:4] == [p.group, "党支部名称", "类别", "必须参与"]
    assert [r[1] for r in kept[1:]] == [row[1] for row in c.rows]
    assert {r[1] for r in kept[1:] if r[3] == "是"} >= c.must
    ledger = [list(r) for r in wb[p.ledger.sheet].iter_rows(values_only=True)]
    header = ledger[0]
    stamps = {row[header.index(p.key)]: row for row in ledger[1:]}
    stage = p.submission_stage
    for n in MERGED:
        assert str(stamps[c.rows[n][1]][header.index(stage.column)]).startswith("已提交 ")
    earlier = [s for s in p.stages[:p.stages.index(stage)]]
    assert earlier  # 品牌酝酿 / 宣传发动: the office's own stage, never stamped by a merge
    assert all(row[header.index(s.column)] is None for s in earlier for row in stamps.values())


def test_adopting_again_appends_the_new_branches_to_the_kept_roster(tmp_path: Path) -> None:
    import openpyxl

    from toolkit.commands.init import init_master
    from toolkit.files.masterfile import load_master

    c = CAMPAIGNS[1]
    master = tmp_path / "台账.xlsx"
    first = dataclasses.replace(c, rows=c.rows[:3])
    init_master(master, c.profile, _roster(tmp_path / "名单一.xlsx", first), operator="党办干事")
    again = init_master(master, c.profile, _roster(tmp_path / "名单二.xlsx", c), operator="党办干事")
    assert again.added_branches == [row[1] for row in c.rows[3:]] and "支部名单" not in again.added_sheets
    kept = [list(r) for r in openpyxl.load_workbook(master, read_only=True)["支部名单"].iter_rows(values_only=True)]
    assert [r[1] for r in kept[1:]] == [row[1] for row in c.rows]
    snap = load_master(master)
    assert snap.roster_entries["护理部党支部"].contacts == {"联系人": "陈静", "电话": "13851810005"}
    assert {b for b, e in snap.roster_entries.items() if e.must_join} == {"针灸科党支部", "骨伤科党支部", "护理部党支部"}


def test_terminal_status_shows_the_stage_requirements_and_flags(campaign: tuple[Campaign, Path]) -> None:
    c, master = campaign
    text = _cli("status", str(master), "--date", c.before.isoformat())
    stage = profile(c.profile).submission_stage
    assert f"申报表所属阶段：“{stage.name}”，截止 {stage.due}" in text
    assert f"  “{stage.name}”：截止 {stage.due}，还剩 " in text and f"    本阶段要求：{stage.note}" in text
    assert f"未提交 {len(_others(c))} 个支部（其中必须参与 {len(c.must)} 个）：" in text
    assert all(f"{b}【必须参与】" in text for b in c.must)
    assert "，已逾期" not in text


def test_current_stages_and_campaign_year() -> None:
    from toolkit.core.stages import campaign_year, current_stages

    up, plus = profile("university-project"), profile("dangjian-plus")
    names = lambda p, day: [s.name for s in current_stages(p, day)]  # noqa: E731
    assert names(up, dt.date(2023, 11, 5)) == ["品牌酝酿", "项目申报"]
    assert names(up, dt.date(2023, 11, 15)) == ["项目立项"]
    assert names(up, dt.date(2024, 9, 30)) == []
    assert names(plus, dt.date(2024, 3, 1)) == ["宣传发动"]  # before it starts: the next to come
    assert names(plus, dt.date(2024, 4, 20)) == ["调查摸底", "组织实施"]
    assert (campaign_year(up), campaign_year(plus), campaign_year(profile("hospital-brand"))) == (2023, 2024, 2024)


def test_must_join_categories_are_the_notices() -> None:
    from toolkit.validation.check import check_all

    p = profile("university-project")
    spec = p.field("支部类别")
    assert spec is not None and spec.choices == ("省级样板支部", "校级样板支部", "“双带头人”教师党支部书记工作室",
                                                 "培育对象", "其他")
    typed = submission(p, "外国语学院学生党支部", {**{f.name: sample_value(p, f.name) for f in p.fields},
                                            "支部类别": "双带头人 教师党支部书记工作室"})  # quotes left out
    assert not [f for f in check_all([typed], p)[0].findings if f.rule == "enum"]


# -- values as people write them ---------------------------------------------------------------------

def _check(sub: Submission, profile_id: str) -> list[Any]:
    from toolkit.validation.check import check_all

    return check_all([sub], profile(profile_id))[0]


def test_a_date_without_a_year_takes_the_campaigns_year() -> None:
    p = profile("dangjian-plus")
    sub = submission(p, "针灸科党支部")
    sub.tables = {"活动台帐": [{"日期": Value("日期", "3月25日", "3月25日", "申报表!A12"),
                               "活动": Value("活动", "义诊进社区", "义诊进社区", "申报表!B12"),
                               "参与人数": Value("参与人数", 12, 12, "申报表!C12")}]}
    c = _check(sub, "dangjian-plus")
    assert c.submission.tables["活动台帐"][0]["日期"].value == dt.date(2024, 3, 25)
    dated = [f for f in c.findings if f.rule == "date"]
    assert [(f.severity, f.cell) for f in dated] == [("warning", "申报表!A12")]
    assert "2024年3月25日" in dated[0].message and "没有年份" in dated[0].message


def test_signature_lines_dates_and_names() -> None:
    p = profile("hospital-brand")
    sign = next(f for f in p.fields if f.type == "signature")
    base = {f.name: sample_value(p, f.name) for f in p.fields if f.type not in ("image", "signature")}

    def findings(text: str) -> list[Any]:
        sub = submission(p, "内科第一党支部", {**base, sign.name: text})
        return [f for f in _check(sub, "hospital-brand").findings if f.field == sign.name]

    yearless = findings("同意推荐。王明 4月14日")
    assert [(f.rule, f.severity) for f in yearless] == [("date", "warning")]
    assert "2024年4月14日" in yearless[0].message
    only_date = findings("2023年 4 月 12 日")  # a date on the signature line is not a signatory's name
    assert [(f.rule, f.severity) for f in only_date] == [("required", "warning")]
    assert "只写了日期" in only_date[0].message
    assert findings("同意推荐。王明 2024年4月14日") == []


def test_a_local_number_without_area_code_is_a_warning() -> None:
    from toolkit.validation.rules import check_value

    p = profile("university-project")
    spec = p.field("联系方式")
    assert spec is not None and spec.type == "phone"
    local = check_value(spec, Value(spec.name, "3831311", "3831311", "申报表!B9"))
    assert [(f.rule, f.severity) for f in local] == [("phone", "warning")]
    assert "区号" in local[0].message and "0471-3831311" in local[0].message
    assert check_value(spec, Value(spec.name, 3831311.0, 3831311.0, None))[0].severity == "warning"
    assert check_value(spec, Value(spec.name, "0471-3831311", "0471-3831311", None)) == []
    assert [f.severity for f in check_value(spec, Value(spec.name, "383131", "383131", None))] == ["error"]


# -- a logo sent beside the form ---------------------------------------------------------------------

def _sub(path: str, branch: str, logo: bool = False) -> Submission:
    p = profile("hospital-brand")
    sub = submission(p, branch, path=path)
    if logo:
        sub.logo = Picture("申报表", 2, 3, "drawing", "png", 400, 300, b"")
    return sub


def _manifest(*files: tuple[str, str, str]) -> dict[str, dict[str, Any]]:
    """(path, attachment name, message id) -> what read_manifest gives."""
    return {str(Path(path).resolve()): {"name": name, "message_id": mail, "sender": "a@example.cn",
                                        "received": "2024-08-01T10:00:00+08:00"} for path, name, mail in files}


def test_pairing_pictures_within_one_mail() -> None:
    from toolkit.commands.attachments import pair_pictures

    p = profile("hospital-brand")
    one = _sub("/inbox/m1/申报表.xlsx", "内科第一党支部")
    origins = _manifest(("/inbox/m1/申报表.xlsx", "申报表.xlsx", "<m1>"), ("/inbox/m1/微信图片.png", "微信图片.png", "<m1>"),
                        ("/inbox/m2/标识.png", "标识.png", "<m2>"))
    got = pair_pictures([one], p, origins)
    assert got[0].taken is not None and got[0].taken.name == "微信图片.png"  # the mail's only picture
    assert [s.name for s in got[0].sent] == ["微信图片.png"]  # never the other mail's
    two = {**origins, **_manifest(("/inbox/m1/合影.jpg", "合影.jpg", "<m1>"))}
    got = pair_pictures([one], p, two)
    assert got[0].taken is None and [s.name for s in got[0].sent] == ["合影.jpg", "微信图片.png"]
    named = {**two, **_manifest(("/inbox/m1/内科第一党支部标识.png", "内科第一党支部标识.png", "<m1>"))}
    assert pair_pictures([one], p, named)[0].taken.name == "内科第一党支部标识.png"
    logo_word = {**two, **_manifest(("/inbox/m1/LOGO.png", "LOGO.png", "<m1>"))}
    assert pair_pictures([one], p, logo_word)[0].taken.name == "LOGO.png"
    # a 党总支's mail: two forms, pictures named after each branch; an unnamed one goes to nobody
    other = _sub("/inbox/m1/申报表2.xlsx", "外科第一党支部")
    bundle = {**_manifest(("/inbox/m1/申报表2.xlsx", "申报表2.xlsx", "<m1>"),
                          ("/inbox/m1/外科第一.png", "外科第一.png", "<m1>")), **named}
    got = pair_pictures([one, other], p, bundle)
    assert (got[0].taken.name, got[1].taken.name) == ("内科第一党支部标识.png", "外科第一.png")
    lone = {**origins, **_manifest(("/inbox/m1/申报表2.xlsx", "申报表2.xlsx", "<m1>"))}
    got = pair_pictures([one, other], p, lone)
    assert got[0].taken is None and got[1].taken is None  # two forms, one unnamed picture: whose is it?
    assert pair_pictures([_sub("/inbox/m1/申报表.xlsx", "内科第一党支部", logo=True)], p, origins) == {}
    assert pair_pictures([_sub("/elsewhere/申报表.xlsx", "内科第一党支部")], p, origins) == {}  # no manifest line
    assert pair_pictures([submission(profile("dangjian-plus"), "针灸科党支部", path="/inbox/m1/申报表.xlsx")],
                         profile("dangjian-plus"), origins) == {}  # a campaign without a logo


def _mail(folder: Path, name: str, msgid: str, form: bytes, pictures: dict[str, bytes]) -> Path:
    def attachment(filename: str, data: bytes, ctype: bytes) -> bytes:
        return part(b"attachment; filename*=UTF-8''" + pct(filename.encode()), data, ctype)

    parts = [attachment("申报表.xlsx", form, b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")]
    parts += [attachment(n, d, b"image/png" if n.endswith(".png") else b"image/jpeg") for n, d in pictures.items()]
    path = folder / name
    path.write_bytes(message("一支部一品牌申报", b"branch@example.cn", parts, msgid=msgid,
                             date="Thu, 01 Aug 2024 10:00:00 +0800"))
    return path


@pytest.fixture(scope="module")
def mailed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An inbox from intake: one mail with a form and its only picture, another with two pictures."""
    from toolkit.mail import intake

    folder = tmp_path_factory.mktemp("mailed")
    mail = folder / "mail"
    mail.mkdir()
    for n, pictures in ((0, {"微信图片_20240801.png": logo_bytes()}),
                        (1, {"合影一.jpg": logo_bytes(fmt="JPEG"), "合影二.png": logo_bytes((300, 300))})):
        form = folder / f"form{n}.xlsx"
        write_filled_form(form, form_values(*BRANDS[n], n))  # no picture in the form
        _mail(mail, f"{n}.eml", f"m{n}@example.cn", form.read_bytes(), pictures)
    inbox = folder / "收件箱"
    report = intake([str(mail)], inbox)
    assert not report.has_rejections
    return inbox


def test_a_picture_sent_beside_the_form_is_its_logo(mailed: Path) -> None:
    doc = _cli("--json", "validate", str(mailed), "--profile", "hospital-brand", exit_code=1)  # 1: one rejected
    by_branch = {f["fields"]["党支部名称"]: f for f in doc["files"]}
    taken = by_branch[BRANDS[0][0]]
    missing = [f for f in taken["findings"] if f["rule"] == "image_missing"]
    assert [(f["severity"], "微信图片_20240801.png" in f["message"]) for f in missing] == [("warning", True)]
    assert taken["status"] == "warning"
    assert [(p["scheme"], p["file"], p["format"]) for p in taken["pictures"]] == \
        [("attachment", "微信图片_20240801.png", "png")]
    unsure = [f for f in by_branch[BRANDS[1][0]]["findings"] if f["rule"] == "image_missing"]
    assert [f["severity"] for f in unsure] == ["error"]
    assert "“合影一.jpg”" in unsure[0]["message"] and "“合影二.png”" in unsure[0]["message"]


def test_merge_places_the_sent_picture_and_keeps_its_original(mailed: Path, tmp_path: Path) -> None:
    import zipfile

    from toolkit.commands.init import init_master
    from toolkit.commands.merge import merge

    master = tmp_path / "台账.xlsx"
    init_master(master, "hospital-brand", None, operator="党办干事")
    result = merge(master, [mailed], operator="党办干事", accept_warnings=True)
    assert result.names("added") == [BRANDS[0][0]], result.to_json()
    assert [o.branch for o in result.rejected] == [BRANDS[1][0]]
    assert list(result.logos) == [BRANDS[0][0]]
    with zipfile.ZipFile(master) as zf:
        assert [n for n in zf.namelist() if n.startswith("xl/media/")]
    assert (tmp_path / "台账_标识" / f"{BRANDS[0][0]}.png").read_bytes() == logo_bytes()


def test_no_pairing_without_the_intake_manifest(tmp_path: Path) -> None:
    from toolkit.commands.batch import read_all

    write_filled_form(tmp_path / "申报表.xlsx", form_values(*BRANDS[0], 0))
    (tmp_path / "标识.png").write_bytes(logo_bytes())
    subs = read_all([tmp_path / "申报表.xlsx"], profile("hospital-brand"), origins={})
    assert subs[0].logo is None and subs[0].pictures == []
