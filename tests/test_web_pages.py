"""The local page's handlers in process (Starlette's TestClient): the merge confirm applies only what the
preview showed, the IMAP settings are remembered without the password, uploads go through intake."""

from __future__ import annotations

import hashlib
import json
import re
import time
from pathlib import Path
from typing import Any

import pytest

from toolkit.web.app import create_app
from toolkit.web.campaign import SETTINGS
from toolkit.web.merges import CHANGED
from toolkit.web.security import Session

PORT = 8765


def client(folder: Path) -> Any:
    from starlette.testclient import TestClient

    session = Session()
    c = TestClient(create_app(folder, session, PORT), base_url=f"http://127.0.0.1:{PORT}")
    assert c.get(f"/login?token={session.launch}").status_code == 200
    c.headers["X-CSRF-Token"] = session.csrf
    return c


def finished(c: Any, response: Any) -> str:
    """Follow a job's polling fragment until its result is served."""
    body = response.text
    for _ in range(1200):
        job = re.search(r'class="job" hx-get="(/jobs/[^"]+)"', body)
        if job is None:
            return body
        time.sleep(0.1)
        body = c.get(job.group(1)).text
    raise AssertionError("the job did not finish")


def digests(body: str) -> dict[str, str]:
    return {name: re.search(rf'name="{name}" value="([0-9a-f]+)"', body).group(1)  # type: ignore[union-attr]
            for name in ("master_digest", "inbox_digest")}


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_confirm_applies_only_what_the_preview_saw(new_master: Any, make_form: Any, tmp_path: Path) -> None:
    master = new_master()
    inbox = tmp_path / "收件箱"
    make_form(0, folder=inbox)
    c = client(tmp_path)
    preview = finished(c, c.post("/merge/preview"))
    assert "台账尚未改动" in preview and "确认合并" in preview
    seen = digests(preview)
    before = sha(master)

    make_form(1, folder=inbox)  # a form arrives after the preview
    again = finished(c, c.post("/merge/confirm", data=seen))
    assert CHANGED in again and "台账尚未改动" in again  # previewed again, nothing applied
    assert sha(master) == before
    assert again.count('class="pill updated"') + again.count('class="pill added"') > \
        preview.count('class="pill updated"') + preview.count('class="pill added"')

    done = finished(c, c.post("/merge/confirm", data=digests(again)))
    assert "合并完成" in done and "台账已保存" in done
    assert sha(master) != before
    undone = c.post("/merge/undo")
    assert "已撤销上一次操作" in undone.text and sha(master) == before


def test_imap_settings_are_remembered_without_the_password(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BRANDKIT_IMAP_PASSWORD", raising=False)
    c = client(tmp_path)
    r = c.post("/intake/imap", data={"host": "127.0.0.1:9", "account": "dangban@163.com", "folder": "收件箱",
                                     "password": "授权码-SECRET"})
    assert r.status_code == 200
    saved = (tmp_path / SETTINGS).read_text(encoding="utf-8")
    assert json.loads(saved)["imap"] == {"host": "127.0.0.1:9", "account": "dangban@163.com", "folder": "收件箱",
                                         "subject": ""}
    assert "SECRET" not in saved
    assert "dangban@163.com" in c.get("/intake").text  # filled in next time
    r = c.post("/intake/imap", data={"host": "127.0.0.1:9", "account": "dangban@163.com", "password": ""})
    assert "没有找到 dangban@163.com@127.0.0.1 的 IMAP 密码" in r.text  # asked on the page, never on the server's terminal


def test_an_upload_of_forms_and_mail_goes_through_intake(tmp_path: Path, make_form: Any) -> None:
    from email.message import EmailMessage

    form = make_form(0, folder=tmp_path / "forms")
    msg = EmailMessage()
    msg["From"], msg["Subject"], msg["Message-ID"] = "支部书记 <a@example.org>", "申报表", "<m1@example.org>"
    msg.set_content("附件")
    msg.add_attachment(make_form(1, folder=tmp_path / "forms").read_bytes(), maintype="application",
                       subtype="octet-stream", filename="护理部.xlsx")
    folder = tmp_path / "活动"
    folder.mkdir()
    c = client(folder)
    files = [("files", (form.name, form.read_bytes())), ("files", ("01.eml", bytes(msg))),
             ("files", ("说明.txt", b"hello"))]
    r = c.post("/intake/upload", files=files)
    assert r.status_code == 200
    assert "收到邮件 1 封，保存附件 1 个" in r.text
    assert (folder / "收件箱" / "网页上传" / form.name).read_bytes() == form.read_bytes()
    assert "说明.txt" in r.text  # skipped, with intake's reason
    assert (folder / "收件箱" / "inbox.jsonl").is_file()
    again = c.post("/intake/upload", files=[("files", ("01.eml", bytes(msg)))])
    assert "收到邮件 0 封" in again.text  # the same mail is taken once
