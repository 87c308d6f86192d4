"""`brandkit notify`: the demo's campaign gets its receipts, returned forms (with their reports) and
reminders — as drafts, and through a real SMTP server on 127.0.0.1 (tests/smtpserver.py), parsed as they
arrived. The roster is the demo's, its 邮箱 column holding addresses only for the branches that never sent anything (and one
for a branch that did: a reply goes to the address the form came from)."""

from __future__ import annotations

import email
import email.policy
import os
import re
import shutil
import subprocess
import sys
from email.header import decode_header, make_header
from pathlib import Path
from urllib.parse import unquote

import openpyxl
import pytest

from tests.paths import ROOT
from tests.smtpserver import PASSWORD, USER, smtp_server

MISSING = {"外一科党支部": "waiyike@example.org", "机关第一党支部": "jiguan1@example.org",
           "肿瘤科党支部": "zhongliu@example.org", "离退休第一党支部": "lituixiu@example.org"}
ROSTER_ONLY = ("内科第一党支部", "neike-roster@example.org")  # also sent its form from branch1@example.org


@pytest.fixture(scope="module")
def demo_campaign(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo's folder (mail in, validate with reports, init with the roster, merge), built once."""
    from toolkit.commands.demo import _run, sample_path
    from toolkit.commands.profiles import resolve_profile

    base = tmp_path_factory.mktemp("notify")
    profile = resolve_profile("hospital-brand")
    with sample_path(profile.id) as forms, sample_path("rosters", f"{profile.id}_支部名单.xlsx") as bundled:
        roster = base / "支部名单.xlsx"
        wb = openpyxl.load_workbook(bundled)
        ws = wb.active
        header = [c.value for c in ws[1]]
        column = header.index("邮箱") + 1 if "邮箱" in header else ws.max_column + 1  # the demo's, or a new one
        ws.cell(1, column, "邮箱")
        for row in range(2, ws.max_row + 1):
            branch = ws.cell(row, 2).value
            address = MISSING.get(branch) or (ROSTER_ONLY[1] if branch == ROSTER_ONLY[0] else None)
            ws.cell(row, column, address)
        wb.save(roster)
        _run(base / "demo", lambda *a, **k: None, lambda merged: None, profile, forms, roster)
    return base / "demo"


@pytest.fixture
def campaign(demo_campaign: Path, tmp_path: Path) -> Path:
    folder = tmp_path / "campaign"
    shutil.copytree(demo_campaign, folder)
    return folder


def _log(master: Path) -> list[tuple]:
    wb = openpyxl.load_workbook(master, read_only=True)
    return [r for r in wb["操作记录"].iter_rows(values_only=True)]


def _returned(master: Path) -> dict[str, str]:
    """Branch -> the file it sent that was returned, from the 操作记录."""
    return {r[3]: r[7] for r in _log(master) if r[2] == "退回"}


def _senders(campaign: Path) -> dict[str, str]:
    """The demo's sample mail: file stem -> sender address."""
    out = {}
    for eml in (campaign / "邮件").glob("*.eml"):
        msg = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
        for part in msg.iter_attachments():
            out[Path(part.get_filename()).stem] = email.utils.parseaddr(msg["From"])[1]
    return out


def _attachment_names(data: bytes) -> tuple[str, str, str]:
    """The attachment's name as the RFC 2231 filename*, the RFC 2047 filename and Content-Type name say
    (read from the headers as they were sent: compat32 keeps them raw)."""
    [part] = [p for p in email.message_from_bytes(data).walk() if p.get("Content-Disposition")]
    raw = part.get("Content-Disposition")
    star = re.search(r"filename\*=UTF-8''([^;\s]+)", str(raw), re.I)
    plain = re.search(r'filename="([^"]+)"', str(raw))
    name = re.search(r'name="([^"]+)"', str(part.get("Content-Type")))
    assert star and plain and name, (raw, part.get("Content-Type"))
    return (unquote(star.group(1)), str(make_header(decode_header(plain.group(1)))),
            str(make_header(decode_header(name.group(1)))))


def _run_send(campaign: Path, port: int, cert: Path, *extra: str) -> tuple[list[str], subprocess.CompletedProcess]:
    argv = [sys.executable, "-m", "toolkit", "notify", str(campaign / "品牌台账.xlsx"), "--send", "--user", USER,
            "--smtp", "127.0.0.1", "--port", str(port), "--tls", "ssl", "--operator", "党办干事", *extra]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "BRANDKIT_SMTP_PASSWORD": PASSWORD, "SSL_CERT_FILE": str(cert)}
    return argv, subprocess.run(argv, env=env, capture_output=True, timeout=300, cwd=ROOT)


@pytest.mark.slow
def test_the_demo_s_notices_arrive_through_smtp_once(campaign: Path, tmp_path: Path) -> None:
    master = campaign / "品牌台账.xlsx"
    returned, senders = _returned(master), _senders(campaign)
    with smtp_server(tmp_path, "ssl") as box:
        argv, done = _run_send(campaign, box.port, box.cert)
        assert done.returncode == 0, done.stderr.decode()
        assert box.logins and all(login == (USER, PASSWORD) for login in box.logins)  # from the environment
        got = {}
        for received in box.messages:
            msg = email.message_from_bytes(received.data, policy=email.policy.default)
            subject = str(msg["Subject"])
            assert subject.startswith("【"), subject
            kind = subject[1:3]
            branch = re.search(r"】(?:已收到|请)?(.+?党支部)", subject).group(1)
            got[(kind, branch)] = (received.recipients, msg, received.data)
            assert received.sender == USER and msg["To"].addresses[0].addr_spec == received.recipients[0]
        # 退回: to the address each form came from, with that form's own report
        for branch, source in returned.items():
            recipients, msg, data = got[("退回", branch)]
            assert recipients == [senders[Path(source).stem]]
            [part] = list(msg.iter_attachments())
            report = f"{Path(source).stem}_校验结果.xlsx"
            assert part.get_filename() == report  # Python's parser (it reads the RFC 2231 form)
            assert _attachment_names(data) == (report, report, report)  # filename*, filename=, name=
            assert part.get_content() == (campaign / "校验结果" / report).read_bytes()
            assert "请于" in msg.get_body(("plain",)).get_content()
        # 催报: to the roster's 邮箱; 回执: to the sender, not the roster's address
        for branch, address in MISSING.items():
            assert got[("催报", branch)][0] == [address]
        assert got[("回执", ROSTER_ONLY[0])][0] == ["branch1@example.org"]
        assert len(box.messages) == len(returned) + len(MISSING) + sum(k == "回执" for k, _ in got)
        first = len(box.messages)

        _, again = _run_send(campaign, box.port, box.cert)
        assert again.returncode == 0 and len(box.messages) == first, again.stdout.decode()
        assert "不再重发" in again.stdout.decode()
        _, reminded = _run_send(campaign, box.port, box.cert, "--again")
        assert len(box.messages) == first + len(MISSING)  # --again repeats the reminders only
        assert {tuple(m.recipients) for m in box.messages[first:]} == {(a,) for a in MISSING.values()}

    mailed = [r for r in _log(master) if r[2] == "发邮件"]
    assert len(mailed) == first + len(MISSING)
    assert {r[4] for r in mailed} == {"申报：回执", "申报：退回", "申报：催报"}
    # the password: not on the command line, not in the output, not in any file the runs left
    assert not any(PASSWORD in a for a in argv)
    for out in (done, again, reminded):
        assert PASSWORD.encode() not in out.stdout + out.stderr
    assert not [p for p in campaign.rglob("*") if p.is_file() and PASSWORD.encode() in p.read_bytes()]
    assert not any(PASSWORD in str(c) for row in _log(master) for c in row)


@pytest.mark.slow
def test_starttls_and_a_wrong_password(campaign: Path, tmp_path: Path) -> None:
    """STARTTLS as Exchange on 587 takes the mail; a refused login sends nothing, logs nothing and says 授权码
    without the password."""
    master = campaign / "品牌台账.xlsx"
    before = master.read_bytes()
    with smtp_server(tmp_path, "starttls") as box:
        env = {**os.environ, "PYTHONPATH": str(ROOT), "BRANDKIT_SMTP_PASSWORD": "wrong-" + PASSWORD,
               "SSL_CERT_FILE": str(box.cert)}
        base = [sys.executable, "-m", "toolkit", "notify", str(master), "--send", "--user", USER, "--smtp",
                "127.0.0.1", "--port", str(box.port), "--tls", "starttls", "--only", "催报"]
        refused = subprocess.run(base, env=env, capture_output=True, timeout=300, cwd=ROOT)
        assert refused.returncode == 2 and "授权码" in refused.stderr.decode()
        assert PASSWORD.encode() not in refused.stdout + refused.stderr and not box.messages
        assert master.read_bytes() == before
        env["BRANDKIT_SMTP_PASSWORD"] = PASSWORD
        sent = subprocess.run(base, env=env, capture_output=True, timeout=300, cwd=ROOT)
        assert sent.returncode == 0, sent.stderr.decode()
        assert sorted(r for m in box.messages for r in m.recipients) == sorted(MISSING.values())


@pytest.mark.slow  # runs the demo or a whole campaign (seconds): make test, not make check
def test_drafts_open_as_drafts_with_the_report_and_the_office(campaign: Path, cli) -> None:
    master = campaign / "品牌台账.xlsx"
    before = master.read_bytes()
    listed = cli("notify", master, "--dry-run", "--by", "2027-03-31")
    assert listed.returncode == 0 and not (campaign / "通知邮件").exists()
    assert "将写  退回" in listed.stdout
    result = cli("notify", master, "--by", "2027-03-31")
    assert result.returncode == 0, result.stderr
    drafts = sorted((campaign / "通知邮件").glob("*.eml"))
    returned = _returned(master)
    assert {d.stem for d in drafts if d.stem.startswith("退回_")} == {f"退回_{b}" for b in returned}
    assert master.read_bytes() == before  # drafts are not mails sent: nothing logged
    for draft in drafts:
        raw = draft.read_bytes()
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        assert msg["X-Unsent"] == "1" and b"\r\n" in raw and raw.isascii()
        body = msg.get_body(("plain",)).get_content()
        assert body.rstrip().endswith("中共内蒙古医科大学附属医院委员会\n" + body.rstrip().splitlines()[-1])
        if draft.stem.startswith("退回_"):
            assert "请于2027年3月31日前修改后重新报送至" in body
            assert [a.get_filename() for a in msg.iter_attachments()] == \
                [f"{Path(returned[draft.stem[3:]]).stem}_校验结果.xlsx"]
        if draft.stem.startswith("催报_"):
            assert "报送截止日期为2024年8月10日" in body and "纸质版" in body


def test_a_missing_report_is_said_and_its_mail_held(campaign: Path, cli) -> None:
    master = campaign / "品牌台账.xlsx"
    branch, source = next(iter(_returned(master).items()))
    (campaign / "校验结果" / f"{Path(source).stem}_校验结果.xlsx").unlink()
    result = cli("notify", master, "--only", "退回")
    assert result.returncode == 0
    assert f"缺校验结果  退回  {branch}" in result.stdout and f"{Path(source).stem}_校验结果.xlsx" in result.stdout
    drafts = {d.stem for d in (campaign / "通知邮件").glob("*.eml")}
    assert f"退回_{branch}" not in drafts and len(drafts) == len(_returned(master)) - 1


def test_the_office_signs_from_the_rules_sheet_and_can_be_edited_there(tmp_path: Path, cli) -> None:
    from toolkit.files.masterfile import load_master

    master = tmp_path / "台账.xlsx"
    assert cli("init", master, "--profile", "hospital-brand", "--office", "党委办公室").returncode == 0
    assert load_master(master, None).profile.office == "党委办公室"
    wb = openpyxl.load_workbook(master)
    rows = {r[0]: r[1] for r in wb["填报规则"].iter_rows(values_only=True) if r and r[0]}
    assert rows["落款单位"] == "党委办公室"
    for row in wb["填报规则"].iter_rows():
        if row[0].value == "落款单位":
            row[1].value = "党委组织部"
    wb.save(master)
    assert load_master(master, None).profile.office == "党委组织部"
    assert cli("notify", master).returncode == 0  # no roster, no forms: nothing to write
    again = cli("init", master, "--office", "别的单位")
    assert again.returncode == 2 and "落款单位" in again.stderr

