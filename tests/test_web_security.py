"""The local page's locks (issue 13): the one-time token, the session cookie, CSRF, the Host check, path
confinement, the upload cap, and the socket bound to 127.0.0.1 only. In process through Starlette's
TestClient, except the socket, read from the running `brandkit serve` process."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.webserver import served
from toolkit.web.app import create_app
from toolkit.web.security import MB, Refused, Session, confine

PORT = 8765
BASE = f"http://127.0.0.1:{PORT}"


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    camp = tmp_path / "活动"
    (camp / "校验结果").mkdir(parents=True)
    (camp / "校验结果" / "a_校验结果.xlsx").write_bytes(b"report")
    (tmp_path / "secret.txt").write_text("SECRET-CONTENT", encoding="utf-8")
    return camp


def client(folder: Path, session: Session, **kwargs: object):  # noqa: ANN201
    from starlette.testclient import TestClient

    return TestClient(create_app(folder, session, PORT, **kwargs), base_url=BASE, follow_redirects=False)


def logged_in(folder: Path, **kwargs: object):  # noqa: ANN201
    session = Session()
    c = client(folder, session, **kwargs)
    assert c.get(f"/login?token={session.launch}").status_code == 303
    return c, session


def test_without_the_token_nothing_is_served(folder: Path) -> None:
    c = client(folder, Session())
    for path in ("/", "/intake", "/files/校验结果/a_校验结果.xlsx", "/static/htmx.min.js"):
        r = c.get(path)
        assert r.status_code == 403, path
        assert "没有登录凭据" in r.text
    assert c.post("/merge/confirm").status_code == 403


def test_the_token_is_swapped_once_for_a_strict_httponly_cookie(folder: Path) -> None:
    session = Session()
    token = session.launch
    c = client(folder, session)
    assert c.get("/login?token=wrong").status_code == 403
    r = c.get(f"/login?token={token}")
    assert r.status_code == 303 and r.headers["location"] == "/"
    cookie = r.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and token not in cookie
    assert c.get("/").status_code == 200
    other = client(folder, session)  # the same address opened again, by anyone: refused
    assert other.get(f"/login?token={token}").status_code == 403
    assert other.get("/").status_code == 403


def test_a_cross_site_post_is_refused(folder: Path) -> None:
    c, session = logged_in(folder)
    csrf = {"X-CSRF-Token": session.csrf}
    assert c.post("/master", data={"master": "x.xlsx"}).status_code == 403  # no CSRF header: a plain form post
    r = c.post("/master", data={"master": "x.xlsx"}, headers={**csrf, "Origin": "http://evil.example"})
    assert r.status_code == 403 and "其他网站" in r.text
    r = c.post("/master", data={"master": "x.xlsx"}, headers={**csrf, "Sec-Fetch-Site": "cross-site"})
    assert r.status_code == 403
    r = c.post("/master", data={"master": "x.xlsx"}, headers={**csrf, "Origin": BASE, "Sec-Fetch-Site": "same-origin"})
    assert r.status_code == 403 and "没有工作簿" in r.text  # through the guard: refused by the handler itself


def test_a_foreign_host_is_refused(folder: Path) -> None:
    c, _ = logged_in(folder)
    assert c.get("/", headers={"Host": "evil.example"}).status_code == 400  # DNS rebinding to 127.0.0.1


def test_paths_outside_the_folder_are_refused(folder: Path, tmp_path: Path) -> None:
    c, _ = logged_in(folder)
    r = c.get("/files/校验结果/a_校验结果.xlsx")
    assert r.status_code == 200 and r.content == b"report"
    assert "attachment" in r.headers["content-disposition"]
    (folder / "link.txt").symlink_to(tmp_path / "secret.txt")
    (folder / "linked").symlink_to(tmp_path, target_is_directory=True)
    for path in ("/files/%2E%2E/secret.txt", "/files/校验结果/%2E%2E/%2E%2E/secret.txt",
                 f"/files/{tmp_path / 'secret.txt'}", "/files/link.txt", "/files/linked/secret.txt"):
        r = c.get(path)
        assert r.status_code == 403, path
        assert "SECRET-CONTENT" not in r.text
    for bad in ("../secret.txt", str(tmp_path / "secret.txt"), "C:/Windows/win.ini", "a/../../secret.txt",
                "..\\secret.txt", "link.txt", "linked/secret.txt"):
        with pytest.raises(Refused):
            confine(folder, bad)
    assert confine(folder, "校验结果/a_校验结果.xlsx") == (folder / "校验结果" / "a_校验结果.xlsx").resolve()


def test_an_upload_over_the_limit_is_refused_with_a_message(folder: Path) -> None:
    c, session = logged_in(folder, max_upload=1 * MB)
    big = os.urandom(2 * MB)
    r = c.post("/intake/upload", files={"files": ("大文件.xlsx", big)}, headers={"X-CSRF-Token": session.csrf})
    assert r.status_code == 413
    assert "超过 1 MB 上限" in r.text
    assert not (folder / "收件箱").exists()


def test_the_server_listens_on_127_0_0_1_only(tmp_path: Path) -> None:
    import psutil

    with served(tmp_path) as (proc, url):
        assert url.startswith("http://127.0.0.1:")
        listening = [c.laddr for c in psutil.Process(proc.pid).net_connections("inet") if c.status == psutil.CONN_LISTEN]
        assert listening and all(addr.ip == "127.0.0.1" for addr in listening), listening
        assert str(listening[0].port) in url
    assert proc.returncode == 0  # Ctrl-C stops it cleanly
