"""The local page's locks: who may talk to it, what a POST must carry, which files it may touch.

* The address `brandkit serve` prints carries a one-time token; `/login?token=…` swaps it for a session
  cookie (HttpOnly, SameSite=Strict, random) and forgets the token, so the address in the terminal's
  scroll-back or the browser history opens nothing once used.
* Every other request needs that cookie, and a Host header naming 127.0.0.1/localhost at our port (a
  web site that rebinds its own name to 127.0.0.1 is refused).
* A POST must also carry the session's CSRF token in the `X-CSRF-Token` header (htmx sends it from
  the page; a form posted by another site cannot set a header), and its Origin, when the browser says
  one, must be this server.
* `confine` turns a path a request names into a file inside the campaign folder, or refuses it:
  absolute paths, `..`, and symlinks leading out are all refused by comparing real paths.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

COOKIE = "brandkit_session"
CSRF_HEADER = "x-csrf-token"
LOGIN_PATH = "/login"
MB = 1024 * 1024
MAX_UPLOAD_BYTES = 200 * MB  # one upload request (a mailbox export of a whole campaign fits)


class Refused(Exception):
    """A path or request the page will not serve (message in Chinese)."""


@dataclass
class Session:
    """The tokens of one running server: the launch token (until used), the session and CSRF tokens."""

    launch: str | None = field(default_factory=lambda: secrets.token_urlsafe(32))
    cookie: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(32))

    def redeem(self, token: str) -> bool:
        """True once, for the launch token; it is forgotten then."""
        if self.launch is not None and secrets.compare_digest(token.encode(), self.launch.encode()):
            self.launch = None
            return True
        return False

    def knows(self, cookie: str | None) -> bool:
        return cookie is not None and secrets.compare_digest(cookie.encode(), self.cookie.encode())

    def csrf_ok(self, token: str | None) -> bool:
        return token is not None and secrets.compare_digest(token.encode(), self.csrf.encode())


def confine(folder: Path, relative: str) -> Path:
    """The file `relative` names inside `folder` (the campaign folder), by real path; Refused when it
    is absolute, climbs out with `..`, or is (or passes through) a symlink leading out."""
    text = relative.replace("\\", "/")
    if not text or text.startswith("/") or (len(text) > 1 and text[1] == ":") or "\x00" in text:
        raise Refused(f"只能打开活动文件夹内的文件（收到：{relative}）")
    if any(part == ".." for part in text.split("/")):
        raise Refused(f"只能打开活动文件夹内的文件，不能用“..”跳出（收到：{relative}）")
    root = folder.resolve()
    target = (root / text).resolve()
    if not target.is_relative_to(root):
        raise Refused(f"{relative} 指向活动文件夹以外（链接到 {target}），不能打开")
    return target


def cookie_header(session: Session) -> str:
    return f"{COOKIE}={session.cookie}; HttpOnly; SameSite=Strict; Path=/"


SECURITY_HEADERS = [
    (b"content-security-policy", b"default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
                                 b"frame-ancestors 'none'; form-action 'self'; base-uri 'none'"),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cache-control", b"no-store"),
]


class Guard:
    """ASGI middleware: the login swap, the cookie, the Host, and for POSTs the CSRF header and Origin.
    A refusal is a short Chinese page with status 403 (400 for a foreign Host)."""

    def __init__(self, app: Any, session: Session, port: int) -> None:
        self.app, self.session = app, session
        self.hosts = {f"127.0.0.1:{port}", f"localhost:{port}"}
        self.origins = {f"http://{h}" for h in self.hosts}

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        problem, status = self.check(scope, headers)

        async def send_with_headers(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *SECURITY_HEADERS]
            await send(message)

        if problem is None and scope["path"] == LOGIN_PATH:
            token = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("token", [""])[0]
            if self.session.redeem(token):
                await _respond(send_with_headers, 303, "", [(b"location", b"/"),
                                                            (b"set-cookie", cookie_header(self.session).encode())])
                return
            problem, status = ("这个登录地址已经用过或不正确。请关闭此页，重新运行 brandkit serve（或双击桌面上的启动图标），"
                               "用它新显示的地址打开。"), 403
        if problem is not None:
            await _respond(send_with_headers, status, _page(problem))
            return
        await self.app(scope, receive, send_with_headers)

    def check(self, scope: dict[str, Any], headers: dict[str, str]) -> tuple[str | None, int]:
        if headers.get("host", "") not in self.hosts:
            return "请用 brandkit serve 显示的地址（127.0.0.1）打开此页。", 400
        if scope["path"] == LOGIN_PATH:
            return None, 200
        if not self.session.knows(_cookie(headers.get("cookie", ""))):
            return "没有登录凭据：请用 brandkit serve 显示的完整地址（含 token）打开此页。", 403
        if scope["method"] not in ("GET", "HEAD"):
            origin = headers.get("origin")
            if origin is not None and origin not in self.origins:
                return f"拒绝来自其他网站（{origin}）的提交。", 403
            if headers.get("sec-fetch-site", "same-origin") not in ("same-origin", "none"):
                return "拒绝来自其他网站的提交。", 403
            if not self.session.csrf_ok(headers.get(CSRF_HEADER)):
                return "提交缺少页面凭据（CSRF），已拒绝。请刷新页面后重试。", 403
        return None, 200


def _cookie(header: str) -> str | None:
    for part in header.split(";"):
        name, _, value = part.strip().partition("=")
        if name == COOKIE:
            return value
    return None


def _page(text: str) -> str:
    from html import escape

    return (f'<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><meta name="renderer" content="webkit">'
            f'<title>无法打开</title></head><body><p>{escape(text)}</p></body></html>')


async def _respond(send: Any, status: int, body: str, headers: list[tuple[bytes, bytes]] | None = None) -> None:
    data = body.encode("utf-8")
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"text/html; charset=utf-8"),
                            (b"content-length", str(len(data)).encode()), *(headers or [])]})
    await send({"type": "http.response.body", "body": data})
