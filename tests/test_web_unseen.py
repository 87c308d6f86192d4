"""The local page on inputs and clicks its happy path never meets: an upload a part of which cannot be
taken, the same form dropped twice, a backwards stamp, no campaign chosen, an address that is no page,
a material no branch claims, a merge confirmed twice at once, a button clicked while its job runs."""

from __future__ import annotations

import io
import threading
import zipfile
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from tests import browser
from tests.paths import SAMPLES
from tests.test_web_pages import client, digests, finished
from tests.webserver import campaign_folder, served
from toolkit.web.checks import UNMATCHED
from toolkit.web.merges import BUSY, CHANGED
from toolkit.web.stamps import FORCE_WEB

ROSTER = SAMPLES / "rosters" / "hospital-brand_支部名单.xlsx"


def _mail(form: Path, n: int) -> bytes:
    msg = EmailMessage()
    msg["From"], msg["Subject"], msg["Message-ID"] = "支部书记 <a@example.org>", "申报表", f"<m{n}@example.org>"
    msg.set_content("附件")
    msg.add_attachment(form.read_bytes(), maintype="application", subtype="octet-stream", filename=form.name)
    return bytes(msg)


def _files(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


def test_an_oversized_mail_zip_is_skipped_and_the_rest_of_the_upload_taken(tmp_path: Path, make_form: Any) -> None:
    forms = tmp_path / "forms"
    folder = tmp_path / "活动"
    folder.mkdir()
    mail, form = _mail(make_form(0, folder=forms), 1), make_form(1, folder=forms)
    many = io.BytesIO()
    with zipfile.ZipFile(many, "w") as zf:
        for i in range(501):  # one over intake's archive cap
            zf.writestr(f"m{i}.eml", b"From: a@b\r\nSubject: x\r\n\r\nhi\r\n")
    c = client(folder)
    r = c.post("/intake/upload", files=[("files", ("01.eml", mail)), ("files", (form.name, form.read_bytes())),
                                        ("files", ("全部邮件.zip", many.getvalue()))])
    assert r.status_code == 200
    assert "全部邮件.zip：压缩包中的邮件过多或过大" in r.text and "请拆分" in r.text
    assert "收到邮件 1 封，保存附件 1 个" in r.text and f"收件箱/网页上传/{form.name}" in r.text
    assert "内科第一党支部.xlsx" in " ".join(_files(folder / "收件箱"))  # the mail's form was taken
    again = c.post("/intake/upload", files=[("files", ("01.eml", mail))])
    assert "收到邮件 0 封" in again.text and "1 封以前已收过" in again.text


def test_the_same_form_uploaded_again_is_not_stored_twice(tmp_path: Path, make_form: Any) -> None:
    form = make_form(1, folder=tmp_path / "forms")
    folder = tmp_path / "活动"
    folder.mkdir()
    c = client(folder)
    first = c.post("/intake/upload", files=[("files", ("护理部.xlsx", form.read_bytes())),
                                            ("files", ("护理部.xlsx", form.read_bytes()))])
    said = "与已收取的 收件箱/网页上传/护理部.xlsx 内容完全相同，不再重复保存"
    assert "直接放入收件箱 1 个文件" in first.text and said in first.text
    second = c.post("/intake/upload", files=[("files", ("护理部（改名）.xlsx", form.read_bytes()))])
    assert said in second.text and "直接放入收件箱" not in second.text
    assert _files(folder / "收件箱") == ["网页上传/护理部.xlsx"]


def test_a_backwards_stamp_says_to_tick_the_pages_box(new_master: Any, tmp_path: Path) -> None:
    from toolkit.commands.stamp import stamp

    master = new_master(ROSTER)
    stamp(master, "党总支审批", "已通过", ["内科第一党支部"])
    c = client(tmp_path)
    r = c.post("/stamp", data={"choice": "党总支审批\x1f退回", "branch": ["内科第一党支部"]})
    assert "未盖章 内科第一党支部" in r.text and FORCE_WEB in r.text and "--force" not in r.text
    forced = c.post("/stamp", data={"choice": "党总支审批\x1f退回", "branch": ["内科第一党支部"], "force": "1"})
    assert "已盖章" in forced.text


def test_a_new_ledger_asks_for_a_campaign_on_the_page_and_leaves_no_roster_behind(tmp_path: Path) -> None:
    c = client(tmp_path)
    r = c.post("/init", data={})
    assert r.status_code == 400 and "活动方案" in r.text and "--" not in r.text
    made = c.post("/init", data={"profile": "hospital-brand"}, headers={"HX-Request": "true"},
                  files=[("roster", (ROSTER.name, ROSTER.read_bytes()))])
    assert made.status_code == 204 and made.headers["HX-Redirect"] == "/"
    assert [p.name for p in tmp_path.iterdir() if p.is_dir()] == []  # the uploaded roster went with the request
    assert "内科第一党支部" in c.get("/stamp").text


def test_addresses_that_are_no_page_answer_in_chinese(tmp_path: Path) -> None:
    c = client(tmp_path)
    missing = c.get("/no-such-page")
    assert missing.status_code == 404 and "找不到这个页面" in missing.text and 'href="/stamp"' in missing.text
    for action in ("/merge/undo", "/merge/confirm", "/intake/upload", "/master", "/init"):
        r = c.get(action)
        assert r.status_code == 405 and "不能直接打开" in r.text and "<nav>" in r.text, action
    fragment = c.post("/no-such-action", headers={"HX-Request": "true"})
    assert fragment.status_code == 404 and "找不到这个页面" in fragment.text and "<nav>" not in fragment.text
    many = c.post("/intake/upload", files=[("files", (f"{i}.xlsx", b"x")) for i in range(2001)])
    assert many.status_code == 400 and "一次最多上传 2000 个文件" in many.text
    assert not (tmp_path / "收件箱").exists()


def test_a_material_no_branch_claims_is_said_in_check_and_merge(new_master: Any, make_form: Any,
                                                                 tmp_path: Path) -> None:
    new_master(ROSTER)
    inbox = tmp_path / "收件箱" / "网页上传"
    make_form(0, folder=inbox)
    (inbox / "说明.txt").write_text("你好", encoding="utf-8")
    c = client(tmp_path)
    checked = finished(c, c.post("/check/run"))
    row = next(r for r in checked.split("<tr") if "说明.txt" in r)
    assert "未识别支部" in row and UNMATCHED in row and "pill ok" not in row
    preview = finished(c, c.post("/merge/preview"))
    row = next(r for r in preview.split("<tr") if "说明.txt" in r)
    assert "不合并" in row and UNMATCHED in row


def test_a_merge_confirmed_twice_at_once_runs_once(new_master: Any, make_form: Any, tmp_path: Path) -> None:
    from toolkit.files.transaction import backups_of

    master = new_master(ROSTER)
    for n in range(3):
        make_form(n, folder=tmp_path / "收件箱")
    c = client(tmp_path)
    seen = digests(finished(c, c.post("/merge/preview")))
    answers: list[str] = []
    start = threading.Barrier(2)

    def confirm() -> None:
        start.wait()
        first = c.post("/merge/confirm", data=seen)
        answers.append(first.text + finished(c, first))  # BUSY is said above the other merge's job

    threads = [threading.Thread(target=confirm) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not any("台账无需改动" in a for a in answers)
    assert sum(BUSY in a or CHANGED in a for a in answers) == 1  # the other one merged
    assert len(backups_of(master)) == 1


def test_the_page_is_whole_without_a_master_and_its_buttons_wait_for_a_job(tmp_path: Path, make_form: Any) -> None:
    empty = tmp_path / "新活动"
    empty.mkdir()
    with served(empty) as (_, url), browser.page(tmp_path / "downloads") as pg:
        pg.goto(url)
        pg.click("nav >> text=盖章")
        pg.wait_for_url("**/stamp")
        pg.wait_for_load_state()
        assert pg.title().startswith("盖章") and pg.locator("nav a").count() == 6
        assert "请先在首页新建或选择台账" in pg.inner_text("main")
        pg.goto(url.split("/login")[0] + "/no-such-page")
        assert pg.title().startswith("无法打开") and "找不到这个页面" in pg.inner_text("main")
        browser.screenshot(pg, "unseen-404")

    master = campaign_folder(tmp_path / "活动", tmp_path / "邮件")
    for n in range(4):
        make_form(n, folder=master.parent / "收件箱")
    with served(master.parent) as (_, url), browser.page(tmp_path / "downloads") as pg:
        pg.goto(url)
        pg.click("nav >> text=合并")
        button = pg.get_by_role("button", name="预览合并")
        button.click()
        pg.wait_for_selector("#merge-result .job")
        assert button.is_disabled() and pg.get_by_role("button", name="撤销上一次操作").is_disabled()
        pg.wait_for_selector("table.outcomes", timeout=180_000)
        assert button.is_enabled() and pg.get_by_role("button", name="确认合并").is_enabled()


def test_a_program_uploaded_under_a_forms_name_is_not_saved(tmp_path: Path) -> None:
    """A Windows program named 申报表.xlsx: refused by its bytes whatever its name, as mail intake refuses it."""
    folder = tmp_path / "活动"
    folder.mkdir()
    program = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + bytes(range(256)) * 8
    said = client(folder).post("/intake/upload", files=[("files", ("申报表.xlsx", program))])
    assert "可执行程序" in said.text and _files(folder / "收件箱") == []
