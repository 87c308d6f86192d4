"""IMAP done the way 163/126, QQ and Exchange need it (FACTS "IMAP").

LOGIN, then a fresh CAPABILITY (imaplib keeps the pre-login list), then `ID` when advertised (NetEase
refuses SELECT without it), then SELECT. Searches use ASCII criteria only; subjects are filtered by the
caller. Moving uses UID MOVE, or COPY + UID EXPUNGE of exactly those UIDs — never a plain EXPUNGE, which
would also purge other messages someone flagged deleted.
"""

from __future__ import annotations

import imaplib
import re
from dataclasses import dataclass
from datetime import date, datetime
from urllib.parse import unquote, urlsplit

from .sources import SourceError

imaplib.Commands.setdefault("ID", ("NONAUTH", "AUTH", "SELECTED"))

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
CLIENT_ID = '("name" "brandkit" "vendor" "brandkit" "support-email" "none")'
BATCH = 200


@dataclass(frozen=True)
class ImapSource:
    tls: bool
    user: str
    host: str
    port: int
    folder: str

    @property
    def account(self) -> str:
        return f"{self.user}@{self.host}"


def parse_imap_url(url: str) -> ImapSource | None:
    """`imap[s]://USER@HOST[:PORT]/FOLDER` (USER may itself hold an @, FOLDER may be Chinese); None if
    `url` is not an IMAP URL. A password in the URL is refused: it would sit in argv and shell history."""
    if not re.match(r"imaps?://", url, re.I):
        return None
    parts = urlsplit(url)
    netloc = parts.netloc
    userinfo, _, hostport = netloc.rpartition("@")
    if not userinfo or not hostport:
        raise SourceError(f"IMAP 地址缺少用户名：{url}；格式为 imaps://用户名@服务器[:端口]/邮件夹")
    if ":" in userinfo:
        raise SourceError("IMAP 地址里不能写密码（会留在命令历史里）；请用环境变量 BRANDKIT_IMAP_PASSWORD 或系统钥匙串")
    tls = parts.scheme.lower() == "imaps"
    host, _, port = hostport.partition(":")
    if port and not port.isdigit():
        raise SourceError(f"IMAP 端口不是数字：{port}")
    folder = unquote(parts.path.lstrip("/")) or "INBOX"
    return ImapSource(tls, unquote(userinfo), host, int(port) if port else (993 if tls else 143), folder)


def _mailbox(name: str) -> str:
    """Mailbox name as an IMAP quoted string in modified UTF-7 (RFC 3501 §5.1.3); pure ASCII."""
    from imap_tools.imap_utf7 import utf7_encode

    encoded = utf7_encode(name).replace(b"\\", b"\\\\").replace(b'"', b'\\"')
    return (b'"' + encoded + b'"').decode("ascii")


def _reply(dat: list) -> str:
    return b" ".join(d for d in dat if isinstance(d, bytes)).decode("utf-8", "replace")


def _said(exc: Exception) -> str:
    """The server's words from an imaplib error (imaplib wraps them as "b'…'")."""
    text = str(exc)
    return text[2:-1] if text.startswith(("b'", 'b"')) else text


@dataclass(frozen=True)
class Meta:
    uid: int
    size: int
    internaldate: datetime | None
    header: bytes


class ImapSession:
    """One logged-in connection with a folder selected. Use as a context manager."""

    def __init__(self, src: ImapSource, password: str, *, timeout: float = 30.0, readonly: bool = True) -> None:
        self.src = src
        where = f"{src.host}:{src.port}"
        try:
            cls = imaplib.IMAP4_SSL if src.tls else imaplib.IMAP4
            self.conn = cls(src.host, src.port, timeout=timeout)
        except (OSError, imaplib.IMAP4.error) as exc:
            raise SourceError(f"无法连接 IMAP 服务器 {where}：{exc}；请检查服务器地址、端口和网络") from exc
        try:
            self._login(password)
            self.refresh_capabilities()
            if "ID" in self.conn.capabilities:
                self.conn._simple_command("ID", CLIENT_ID)  # noqa: SLF001 - imaplib has no public ID
            self.uidvalidity = self._select(readonly)
        except SourceError:
            self.close()
            raise
        except (OSError, imaplib.IMAP4.error) as exc:
            self.close()
            raise SourceError(f"与 IMAP 服务器 {where} 通信失败：{_said(exc)}") from exc

    def _login(self, password: str) -> None:
        try:
            self.conn.login(self.src.user, password)
        except imaplib.IMAP4.error as exc:
            raise SourceError(
                f"登录 {self.src.account} 失败（服务器回复：{_said(exc)}）。QQ 邮箱、163/126 邮箱要用授权码登录，"
                "不是网页登录密码：请在网页邮箱“设置 → 账户 → POP3/IMAP/SMTP 服务”中开启 IMAP 并生成授权码，"
                "填入环境变量 BRANDKIT_IMAP_PASSWORD 或系统钥匙串") from None

    def refresh_capabilities(self) -> None:
        typ, dat = self.conn.capability()
        if typ == "OK" and dat and dat[-1]:
            self.conn.capabilities = tuple(dat[-1].decode("ascii", "replace").upper().split())

    def _select(self, readonly: bool) -> int:
        typ, dat = self.conn.select(_mailbox(self.src.folder), readonly=readonly)
        if typ != "OK":
            raise SourceError(f"打开邮件夹“{self.src.folder}”失败（服务器回复：{_reply(dat)}）；请检查邮件夹名称；"
                              "网易邮箱提示 Unsafe Login 时，请在网页邮箱中开启 IMAP 服务")
        _, values = self.conn.response("UIDVALIDITY")
        return int(values[-1]) if values and values[-1] else 0

    def search(self, since: date | None) -> list[int]:
        criteria = ["SINCE", f"{since.day}-{_MONTHS[since.month - 1]}-{since.year}"] if since else ["ALL"]
        typ, dat = self.conn.uid("SEARCH", *criteria)
        if typ != "OK":
            raise SourceError(f"在“{self.src.folder}”中搜索邮件失败（服务器回复：{_reply(dat)}）")
        return sorted(int(u) for u in b" ".join(d for d in dat if d).split())

    def metas(self, uids: list[int]) -> list[Meta]:
        """Size, arrival time and Subject/Message-ID headers, in batches, without downloading bodies."""
        result: list[Meta] = []
        for start in range(0, len(uids), BATCH):
            chunk = ",".join(str(u) for u in uids[start:start + BATCH])
            typ, dat = self.conn.uid("FETCH", chunk,
                                     "(RFC822.SIZE INTERNALDATE BODY.PEEK[HEADER.FIELDS (SUBJECT MESSAGE-ID)])")
            if typ != "OK":
                raise SourceError(f"读取邮件信息失败（服务器回复：{_reply(dat)}）")
            for item in dat:
                if isinstance(item, tuple):
                    result.append(_meta(item[0], item[1]))
        return result

    def fetch(self, uid: int) -> bytes | None:
        typ, dat = self.conn.uid("FETCH", str(uid), "(BODY.PEEK[])")
        for item in dat if typ == "OK" else []:
            if isinstance(item, tuple):
                return item[1]
        return None

    def move(self, uids: list[int], target: str) -> str | None:
        """Move exactly `uids` to `target` (created when missing); a Chinese warning, or None when done."""
        if not uids:
            return None
        box = _mailbox(target)
        self.conn.create(box)  # NO when it exists already: fine
        uidset = ",".join(str(u) for u in uids)
        if "MOVE" in self.conn.capabilities:
            typ, dat = self.conn.uid("MOVE", uidset, box)
            return None if typ == "OK" else f"移动到“{target}”失败（服务器回复：{_reply(dat)}）"
        typ, dat = self.conn.uid("COPY", uidset, box)
        if typ != "OK":
            return f"复制到“{target}”失败（服务器回复：{_reply(dat)}）"
        if "UIDPLUS" not in self.conn.capabilities:
            return (f"服务器不支持 UID EXPUNGE：已复制到“{target}”，原邮件保留在“{self.src.folder}”"
                    "（没有用普通 EXPUNGE，以免误删其他邮件）")
        self.conn.uid("STORE", uidset, "+FLAGS.SILENT", r"(\Deleted)")
        typ, dat = self.conn.uid("EXPUNGE", uidset)
        return None if typ == "OK" else f"从“{self.src.folder}”清除已移动的邮件失败（服务器回复：{_reply(dat)}）"

    def close(self) -> None:
        try:  # LOGOUT without CLOSE: CLOSE would expunge every \\Deleted message in the folder
            self.conn.logout()
        except (OSError, imaplib.IMAP4.error):
            pass

    def __enter__(self) -> ImapSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


_META = re.compile(rb"UID (\d+)|RFC822\.SIZE (\d+)|INTERNALDATE \"([^\"]+)\"")


def _meta(head: bytes, header: bytes) -> Meta:
    uid = size = 0
    when = None
    for m in _META.finditer(head):
        if m.group(1):
            uid = int(m.group(1))
        elif m.group(2):
            size = int(m.group(2))
        else:
            try:
                when = datetime.strptime(m.group(3).decode().strip(), "%d-%b-%Y %H:%M:%S %z")
            except ValueError:
                when = None
    return Meta(uid, size, when, header)
