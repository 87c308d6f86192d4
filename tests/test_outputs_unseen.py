"""What the probe of brandkit's outputs found: notify's attachments, draft names, reasons, dates and
addresses; a closed pipe; counts as of a date; readable PNG charts. Every master is built with init and
merge, as an office would."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest

from tests.paths import ROOT
from toolkit.core.model import china_today

SAMPLE = ROOT / "samples" / "hospital-brand" / "01_内科第一党支部.xlsx"
SAMPLE_ROSTER = ROOT / "samples" / "rosters" / "hospital-brand_支部名单.xlsx"
FORMULA = '=HYPERLINK("http://x","y")'


def _form(path: Path, branch: str, brand: str, phone: str, filler: str | None = None) -> Path:
    wb = openpyxl.load_workbook(SAMPLE)
    ws = wb["申报表"]
    ws["B3"], ws["B4"], ws["D23"] = branch, brand, phone
    if filler is not None:
        ws["B23"] = filler
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


def _roster(path: Path, rows: list[tuple[str, str | None]]) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "名单"
    ws.append(["党总支", "党支部名称", "类别", "必须参与", "联系人", "联系方式", "邮箱"])
    for n, (branch, address) in enumerate(rows):
        ws.append(["第一党总支", branch, "临床", "否", f"人{n}", f"139047000{n:02d}", address])
    wb.save(path)
    return path


def _drafts(folder: Path) -> dict[str, email.message.EmailMessage]:
    return {p.name: email.message_from_bytes(p.read_bytes(), policy=email.policy.default)  # type: ignore[misc]
            for p in sorted(folder.glob("*.eml"))}


@pytest.fixture
def same_name(tmp_path: Path, cli) -> Path:
    """Two branches both send 申报表.xlsx, from two mail folders; both are returned."""
    eye = _form(tmp_path / "inbox" / "a" / "申报表.xlsx", "眼科党支部", "超长的品牌名称一二三四五", "13904711111", FORMULA)
    _form(tmp_path / "inbox" / "b" / "申报表.xlsx", "儿科党支部", "童心", "12345")
    assert eye.read_bytes() != (tmp_path / "inbox" / "b" / "申报表.xlsx").read_bytes()
    master = tmp_path / "台账.xlsx"
    assert cli("init", master, "--profile", "hospital-brand", "--roster", SAMPLE_ROSTER).returncode == 0
    assert cli("validate", tmp_path / "inbox", "--master", master, "--report-dir", tmp_path / "校验结果").returncode == 1
    assert cli("merge", master, tmp_path / "inbox").returncode in (0, 1)
    return tmp_path


def test_each_returned_mail_attaches_the_report_of_its_own_file(same_name: Path, cli) -> None:
    from toolkit.files.report_source import read_source

    done = cli("notify", same_name / "台账.xlsx", "-o", same_name / "mail", "--only", "退回")
    assert done.returncode == 0, done.stderr
    drafts = _drafts(same_name / "mail")
    assert set(drafts) == {"退回_眼科党支部.eml", "退回_儿科党支部.eml"}
    for branch, folder in (("眼科党支部", "a"), ("儿科党支部", "b")):
        [part] = list(drafts[f"退回_{branch}.eml"].iter_attachments())
        report = same_name / "校验结果" / part.get_filename()
        assert part.get_content() == report.read_bytes()
        found = read_source(report)
        sent = (same_name / "inbox" / folder / "申报表.xlsx").read_bytes()
        assert found is not None and found.sha256 == hashlib.sha256(sent).hexdigest()


def test_a_report_is_never_taken_by_its_name_alone(same_name: Path, cli) -> None:
    """With 眼科's report gone, 儿科's (both 申报表…) is not attached to 眼科's mail: the mail is held."""
    from toolkit.files.report_source import read_source

    for report in (same_name / "校验结果").glob("申报表*_校验结果.xlsx"):
        found = read_source(report)
        if found and found.sha256 == hashlib.sha256((same_name / "inbox/a/申报表.xlsx").read_bytes()).hexdigest():
            report.unlink()
    done = cli("notify", same_name / "台账.xlsx", "-o", same_name / "mail", "--only", "退回")
    assert "缺校验结果  退回  眼科党支部" in done.stdout and "不会代用" in done.stdout
    assert set(_drafts(same_name / "mail")) == {"退回_儿科党支部.eml"}


def test_a_reason_holding_a_semicolon_stays_one_item_and_the_office_address_is_given(same_name: Path, cli) -> None:
    assert cli("notify", same_name / "台账.xlsx", "-o", same_name / "mail", "--only", "退回").returncode == 0
    msg = _drafts(same_name / "mail")["退回_眼科党支部.eml"]
    body = msg.get_body(("plain",)).get_content()
    items = [line.strip() for line in body.splitlines() if line.strip()[:2] in {f"{n}." for n in range(1, 10)}]
    formula = [line for line in items if "HYPERLINK" in line]
    assert len(formula) == 1 and "；" in formula[0], items  # one reason, its own "；" inside it
    tail = formula[0].split("；", 1)[1]
    assert not any(line.split(" ", 1)[1].startswith(tail[:8]) for line in items)
    assert "重新报送至中共内蒙古医科大学附属医院委员会（nyfydbxxnr@163.com）" in body
    assert msg["From"].addresses[0].addr_spec == "nyfydbxxnr@163.com"  # never a name without an address


def test_a_resend_date_in_the_past_is_refused(same_name: Path, cli) -> None:
    past = (china_today() - dt.timedelta(days=1)).isoformat()
    done = cli("notify", same_name / "台账.xlsx", "-o", same_name / "mail", "--by", past)
    assert done.returncode == 2 and "早于今天" in done.stderr
    assert not (same_name / "mail").exists()


def test_drafts_of_branches_whose_names_make_one_file_name_are_all_kept(tmp_path: Path, cli) -> None:
    names = ["内科/外科党支部", "内科:外科党支部", "内科*外科党支部", "内科?外科党支部"]
    roster = _roster(tmp_path / "roster.xlsx", [(n, f"c{i}@example.org") for i, n in enumerate(names)])
    master = tmp_path / "台账.xlsx"
    assert cli("init", master, "--profile", "hospital-brand", "--roster", roster).returncode == 0
    done = cli("notify", master, "-o", tmp_path / "mail")
    assert done.returncode == 0 and "已写 4 封草稿" in done.stdout
    drafts = _drafts(tmp_path / "mail")
    assert len(drafts) == 4
    assert sorted(m["To"].addresses[0].addr_spec for m in drafts.values()) == [f"c{i}@example.org" for i in range(4)]


def test_roster_cells_with_two_addresses_full_width_or_invalid_ones(tmp_path: Path, cli) -> None:
    cells = {"甲党支部": "a1@example.org；a2@example.org", "乙党支部": "b@example.org, c@example.org",
             "丙党支部": "ｄ＠example.org", "丁党支部": "not-an-email"}
    roster = _roster(tmp_path / "roster.xlsx", list(cells.items()))
    master = tmp_path / "台账.xlsx"
    assert cli("init", master, "--profile", "hospital-brand", "--roster", roster).returncode == 0
    done = cli("notify", master, "-o", tmp_path / "mail")
    drafts = _drafts(tmp_path / "mail")
    to = {name: sorted(a.addr_spec for a in m["To"].addresses) for name, m in drafts.items() if m["To"]}
    assert to == {"催报_甲党支部.eml": ["a1@example.org", "a2@example.org"],
                  "催报_乙党支部.eml": ["b@example.org", "c@example.org"], "催报_丙党支部.eml": ["d@example.org"]}
    assert "邮箱无效  催报  丁党支部：“not-an-email”不是有效的邮箱地址" in done.stdout


def test_all_addresses_of_a_cell_receive_the_mail_through_smtp(tmp_path: Path) -> None:
    from tests.smtpserver import PASSWORD, USER, smtp_server
    roster = _roster(tmp_path / "roster.xlsx", [("甲党支部", "a1@example.org；a2@example.org")])
    master = tmp_path / "台账.xlsx"
    run = [sys.executable, "-m", "toolkit"]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "BRANDKIT_SMTP_PASSWORD": PASSWORD}
    assert subprocess.run([*run, "init", str(master), "--profile", "hospital-brand", "--roster", str(roster)],
                                   env=env, capture_output=True, cwd=ROOT).returncode == 0
    with smtp_server(tmp_path, "ssl") as box:
        sent = subprocess.run([*run, "notify", str(master), "--send", "--user", USER, "--smtp", "127.0.0.1", "--port",
                               str(box.port), "--tls", "ssl"], env={**env, "SSL_CERT_FILE": str(box.cert)},
                              capture_output=True, timeout=300, cwd=ROOT)
        assert sent.returncode == 0, sent.stderr.decode()
        assert [sorted(m.recipients) for m in box.messages] == [["a1@example.org", "a2@example.org"]]


def test_a_closed_pipe_ends_the_command_quietly(tmp_path: Path, cli) -> None:
    master = tmp_path / "台账.xlsx"
    assert cli("init", master, "--profile", "hospital-brand", "--roster", SAMPLE_ROSTER).returncode == 0
    for args in (["status", str(master)], ["--json", "status", str(master)]):
        read, write = os.pipe()
        os.close(read)  # `| head` that has read all it wanted
        try:
            done = subprocess.run([sys.executable, "-m", "toolkit", *args], stdout=write, stderr=subprocess.PIPE,
                                  env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=300, cwd=ROOT)
        finally:
            os.close(write)
        assert done.returncode == 0 and done.stderr == b"", done.stderr.decode()


def test_status_and_summary_as_of_a_date_count_only_what_had_happened(tmp_path: Path, cli) -> None:
    master = tmp_path / "台账.xlsx"
    assert cli("init", master, "--profile", "hospital-brand", "--roster", SAMPLE_ROSTER, "--year", "2027").returncode == 0
    inbox = tmp_path / "收件箱"
    shutil.copytree(ROOT / "samples" / "hospital-brand", inbox, copy_function=shutil.copy)  # received now
    assert cli("merge", master, inbox).returncode in (0, 1)
    today = china_today()  # the day brandkit counts in (a form's day is its China day)
    ahead = cli("stamp", master, "--stage", "党总支审批", "--status", "已通过", "--all",
                "--date", (today + dt.timedelta(days=30)).isoformat())
    assert ahead.returncode == 2 and "还没到" in ahead.stderr
    before = (today - dt.timedelta(days=1)).isoformat()
    now = cli("--json", "status", master)
    then = cli("--json", "status", master, "--date", before)
    submitted = {doc["date"]: sum(g["已提交"] for g in doc["groups"] if g["党总支"] != "合计")
                 for doc in (json.loads(now.stdout), json.loads(then.stdout))}
    assert submitted[today.isoformat()] > 0 and submitted[before] == 0
    assert cli("summary", master, "-o", tmp_path / "s.xlsx", "--as-of", before).returncode == 0
    sheet = [list(r) for r in openpyxl.load_workbook(tmp_path / "s.xlsx")["总体进度"].iter_rows(values_only=True)]
    total = next(r for r in sheet[4:] if r and r[0] == "合计")
    assert dict(zip(sheet[3], total, strict=False)).get("已提交", 0) == 0


def test_png_charts_with_many_long_names_and_an_emoji_read_and_stderr_stays_clean(tmp_path: Path) -> None:
    from toolkit.commands.charts import cjk_font, drawable, tick_labels

    groups = [f"临床医学院附属第{n}医院党总支" for n in range(9)] + ["医技🔬党总支"]
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["党总支", "党支部名称", "类别", "必须参与", "联系人", "联系方式", "邮箱"])
    for n, group in enumerate(groups):
        ws.append([group, f"第{n}党支部", "临床", "否", "人", "13904700000", None])
    wb.save(tmp_path / "roster.xlsx")
    run = [sys.executable, "-m", "toolkit"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    master = tmp_path / "台账.xlsx"
    for args in (["init", str(master), "--profile", "hospital-brand", "--roster", str(tmp_path / "roster.xlsx")],
                 ["summary", str(master), "-o", str(tmp_path / "s.xlsx"), "--png", str(tmp_path / "png")]):
        done = subprocess.run([*run, *args], env=env, capture_output=True, timeout=300, cwd=ROOT)
        assert done.returncode == 0 and done.stderr == b"", done.stderr.decode()
    empty = tmp_path / "empty.xlsx"  # no branch at all: matplotlib's warnings of an empty chart
    subprocess.run([*run, "init", str(empty), "--profile", "hospital-brand"], env=env, capture_output=True, cwd=ROOT)
    done = subprocess.run([*run, "summary", str(empty), "-o", str(tmp_path / "e.xlsx"), "--png", str(tmp_path / "e")],
                          env=env, capture_output=True, timeout=300, cwd=ROOT)
    assert done.returncode == 0 and done.stderr == b"", done.stderr.decode()
    font = cjk_font()
    assert drawable("医技🔬党总支", font) == "医技党总支"
    shown, angle = tick_labels([drawable(g, font) for g in groups])
    share = 52 // len(groups)
    assert angle or all(len(line) <= share for label in shown for line in label.splitlines())
