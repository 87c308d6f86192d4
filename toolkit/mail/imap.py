"""IMAP done the way 163/126, QQ and Exchange need it (FACTS "IMAP").

On a plain `imap://` connection STARTTLS first when the server offers it (else a warning: the password
travels in clear text), then LOGIN (AUTHENTICATE PLAIN for a non-ASCII user or password), then a fresh
CAPABILITY (imaplib keeps the pre-login list), then `ID` when advertised (NetEase refuses SELECT without
it), then SELECT. Folder names are written with "/" and translated to the server's hierarchy separator (from
LIST). Searches use ASCII criteria only; subjects and days are filtered by the caller. Moving uses UID
MOVE, or COPY + \\Deleted + UID EXPUNGE of exactly those UIDs — never a plain EXPUNGE, which would also
purge other messages someone flagged deleted. A mail the server chokes on (dovecot answers a FETCH of a
corrupt mail with `* BYE`) is named in `broken` and passed over on a fresh connection.

What the server says reaches the user only through `_server_text`: the password cut out (a broken server
may quote the LOGIN line back), control characters escaped, the length bounded. A connection lost at any
point is a SourceError naming the server: the messages taken before it are kept, the run goes on with
the next source.
"""

from __future__ import annotations

import imaplib
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from urllib.parse import unquote, urlsplit

from toolkit.core.display import one_line

from .sources import SourceError

imaplib.Commands.setdefault("ID", ("NONAUTH", "AUTH", "SELECTED"))

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")  # a CR/LF sent in a command would start another command
_SERVER_TEXT_MAX = 300
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
CLIENT_ID = '("name" "brandkit" "vendor" "brandkit" "support-email" "none")'
BATCH = 200
MAX_BROKEN = 5  # mails a folder may lose to dropped connections before the line itself is blamed
_LIST_ITEM = re.compile(rb'\((?P<flags>[^)]*)\) (?:"(?P<sep>[^"]*)"|NIL) (?P<name>.+)$')


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
    user, folder = unquote(userinfo), unquote(parts.path.lstrip("/")) or "INBOX"
    if _CONTROL.search(user + host + folder):
        raise SourceError("IMAP 地址的用户名、服务器或邮件夹中含有换行等控制字符（如 %0D%0A），已拒绝：它们会被服务器当作"
                          "另一条命令。请检查地址")
    return ImapSource(tls, user, host, int(port) if port else (993 if tls else 143), folder)


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


def _secret_forms(password: str) -> list[str]:
    """The password as a server could quote it back: as typed, and as imaplib quotes it in LOGIN."""
    quoted = password.replace("\\", "\\\\").replace('"', '\\"')
    return sorted({p for p in (password, quoted) if p}, key=len, reverse=True)


@dataclass(frozen=True)
class Meta:
    uid: int
    size: int
    internaldate: datetime | None
    header: bytes


class ImapSession:
    """One logged-in connection with a folder selected. Use as a context manager. `warnings` (Chinese)
    say what the user should know though nothing failed (no encryption, originals left flagged deleted);
    `broken` holds the UIDs passed over because the server dropped the line on them, with what it said.
    `folder` is the folder's name on the server (its hierarchy separator in place of "/")."""

    def __init__(self, src: ImapSource, password: str, *, timeout: float = 30.0, readonly: bool = True) -> None:
        self.src = src
        self.where = f"{src.host}:{src.port}"
        self.warnings: list[str] = []
        self.broken: list[tuple[int, str]] = []
        self._secrets = _secret_forms(password)
        self._password, self._timeout, self._readonly = password, timeout, readonly
        self._delimiter: str | None = None
        self.folder = src.folder
        if _CONTROL.search(src.user) or _CONTROL.search(password):
            raise SourceError(f"{one_line(src.account)} 的 IMAP 用户名或密码中含有换行等控制字符，未发送（会被服务器当作另一条命令）；"
                              "请检查环境变量 BRANDKIT_IMAP_PASSWORD 或系统钥匙串中保存的密码")
        self.uidvalidity = self._open()

    def _open(self) -> int:
        """Connect, log in and select the folder; its UIDVALIDITY."""
        src, where = self.src, self.where
        try:
            cls = imaplib.IMAP4_SSL if src.tls else imaplib.IMAP4
            self.conn = cls(src.host, src.port, timeout=self._timeout)
        except (OSError, imaplib.IMAP4.error) as exc:
            raise SourceError(f"无法连接 IMAP 服务器 {where}：{self._server_text(exc)}；请检查服务器地址、端口和网络") \
                from exc
        try:
            if not src.tls:
                self._secure()
            self._login(self._password)
            self.refresh_capabilities()
            if "ID" in self.conn.capabilities:
                self.conn._simple_command("ID", CLIENT_ID)  # noqa: SLF001 - imaplib has no public ID
            self.folder = self.server_name(src.folder)
            return self._select()
        except SourceError:
            self.close()
            raise
        except (OSError, imaplib.IMAP4.error) as exc:
            self.close()
            raise SourceError(f"与 IMAP 服务器 {where} 通信失败：{self._server_text(exc)}") from exc

    def _reopen(self) -> None:
        """A fresh connection after the server dropped the line, on the very same folder."""
        self.close()
        if self._open() != self.uidvalidity:
            raise SourceError(f"{self._place}：邮件夹在收取过程中被服务器重建（UIDVALIDITY 改变），已停止收取此邮件夹；"
                              "请重新运行 intake")

    @property
    def _place(self) -> str:
        return f"{one_line(self.src.account)}/{one_line(self.src.folder)}"

    def _server_text(self, said: Exception | str) -> str:
        """What the server said, fit to show: never the password, no control characters, bounded."""
        text = _said(said) if isinstance(said, Exception) else said
        for secret in self._secrets:
            text = text.replace(secret, "******")
        text = one_line(text)
        return text if len(text) <= _SERVER_TEXT_MAX else text[: _SERVER_TEXT_MAX - 1] + "…"

    def _warn(self, text: str) -> None:
        if text not in self.warnings:  # a reconnect must not say it twice
            self.warnings.append(text)

    def _secure(self) -> None:
        """STARTTLS when the server offers it; a warning when it does not. A failed STARTTLS stops here:
        falling back to clear text would hand the password to whoever broke the handshake."""
        src = self.src
        if "STARTTLS" not in self.conn.capabilities:
            self._warn(
                f"IMAP 服务器 {self.where} 不支持加密（STARTTLS），密码和邮件以明文在网络上传输；如服务器支持 SSL，请改用 "
                f"imaps://{src.user}@{src.host}/{src.folder}（端口 993）")
            return
        try:
            self.conn.starttls()
        except (OSError, imaplib.IMAP4.error) as exc:
            raise SourceError(
                f"与 IMAP 服务器 {self.where} 建立加密连接（STARTTLS）失败：{self._server_text(exc)}；为免密码以明文发送，"
                f"没有登录。请改用 imaps://{src.user}@{src.host}/{src.folder}（端口 993），或请邮箱管理员检查服务器证书") \
                from exc

    def _login(self, password: str) -> None:
        user = self.src.user
        try:
            if (user + password).isascii():
                self.conn.login(user, password)
            elif "AUTH=PLAIN" in self.conn.capabilities:  # LOGIN is ASCII only; PLAIN carries UTF-8
                self.conn.authenticate("PLAIN", lambda _challenge: f"\0{user}\0{password}".encode())
            else:
                raise SourceError(f"{self.src.account} 的用户名或密码含有中文等非 ASCII 字符，而服务器 {self.where} "
                                  "不支持这样登录（AUTH=PLAIN）；请改用只含英文字母、数字和符号的密码或授权码")
        except imaplib.IMAP4.abort:
            raise
        except imaplib.IMAP4.error as exc:
            raise SourceError(
                f"登录 {self.src.account} 失败（服务器回复：{self._server_text(exc)}）。QQ 邮箱、163/126 邮箱要用授权码登录，"
                "不是网页登录密码：请在网页邮箱“设置 → 账户 → POP3/IMAP/SMTP 服务”中开启 IMAP 并生成授权码，"
                "填入环境变量 BRANDKIT_IMAP_PASSWORD 或系统钥匙串") from None

    @contextmanager
    def _talk(self, doing: str) -> Iterator[None]:
        """Server trouble while `doing` something, as a SourceError that names the server and says
        what became of the run: what was taken is kept, the rest comes next time."""
        try:
            yield
        except (OSError, imaplib.IMAP4.error) as exc:
            lost = isinstance(exc, OSError | imaplib.IMAP4.abort)
            what = "的连接在{}时中断" if lost else "在{}时报错"
            raise SourceError(f"与 IMAP 服务器 {self.where}（账户 {self._place}）{what.format(doing)}"
                              f"（{self._server_text(exc)}）；此前收取的邮件已保存，其余邮件请稍后重新运行 intake 收取") from exc

    def refresh_capabilities(self) -> None:
        typ, dat = self.conn.capability()
        if typ == "OK" and dat and dat[-1]:
            self.conn.capabilities = tuple(dat[-1].decode("ascii", "replace").upper().split())

    @property
    def delimiter(self) -> str:
        """The server's hierarchy separator (LIST "" "", asked once); "/" when it names none."""
        if self._delimiter is None:
            self._delimiter = next((sep for _, sep, _ in self._list('""') if sep), "/")
        return self._delimiter

    def _list(self, pattern: str) -> list[tuple[bytes, str, str]]:
        """LIST answers; none from a server that refuses (a BAD is not worth failing over)."""
        try:
            typ, dat = self.conn.list('""', pattern)
        except imaplib.IMAP4.abort:
            raise
        except imaplib.IMAP4.error:
            return []
        return _entries(dat) if typ == "OK" else []

    def server_name(self, name: str) -> str:
        """A folder written with "/" (as users write paths) in the server's own separator."""
        return name.replace("/", self.delimiter) if "/" in name else name

    def _select(self) -> int:
        typ, dat = self.conn.select(_mailbox(self.folder), readonly=self._readonly)
        if typ != "OK":
            raise SourceError(self._missing() or
                              f"打开邮件夹“{self.src.folder}”失败（服务器回复：{self._server_text(_reply(dat))}）；"
                              "请检查邮件夹名称；网易邮箱提示 Unsafe Login 时，请在网页邮箱中开启 IMAP 服务")
        _, values = self.conn.response("UIDVALIDITY")
        value = values[-1] if values else None
        return int(value) if isinstance(value, bytes) and value.isdigit() else 0

    def _missing(self) -> str | None:
        """When the folder does not exist: a Chinese message listing the folders that do."""
        names = [name.replace(self.delimiter, "/") for flags, _, name in self._list("*")
                 if b"\\noselect" not in flags.lower()]
        if not names or self._list(_mailbox(self.folder)):  # a LIST that says nothing proves nothing
            return None
        shown = "、".join(f"“{one_line(n)}”" for n in names[:30]) + ("等" if len(names) > 30 else "")
        return (f"{one_line(self.src.account)} 上没有邮件夹“{one_line(self.src.folder)}”；现有的邮件夹：{shown}。"
                "请改用其中一个，子邮件夹用“/”分隔，如 INBOX/申报材料")

    def search(self, since: date | None) -> list[int]:
        # SINCE compares the server's calendar day (often UTC's): from a day earlier, so what arrived
        # 00:00-08:00 China time is found; the caller keeps only the China-time days wanted
        day = since - timedelta(days=1) if since else None
        criteria = ["SINCE", f"{day.day}-{_MONTHS[day.month - 1]}-{day.year}"] if day else ["ALL"]
        with self._talk("搜索邮件"):
            typ, dat = self.conn.uid("SEARCH", *criteria)
        if typ != "OK":
            raise SourceError(f"在“{self.src.folder}”中搜索邮件失败（服务器回复：{self._server_text(_reply(dat))}）")
        return sorted(int(u) for u in b" ".join(d for d in dat if d).split() if u.isdigit())

    def metas(self, uids: list[int]) -> list[Meta]:
        """Size, arrival time and Subject/Message-ID headers, in batches, without downloading bodies. A
        batch on which the server drops the line (one corrupt mail) is read again one UID at a time on
        fresh connections; the UIDs it still drops go to `broken`, and the others are read."""
        result: list[Meta] = []
        with self._talk("读取邮件信息"):
            for start in range(0, len(uids), BATCH):
                chunk = uids[start:start + BATCH]
                try:
                    result += self._metas(chunk)
                except (OSError, imaplib.IMAP4.abort):
                    self._reopen()
                    for uid in chunk:
                        result += self._meta_alone(uid)
        return result

    def _meta_alone(self, uid: int) -> list[Meta]:
        try:
            return self._metas([uid])
        except (OSError, imaplib.IMAP4.abort) as exc:
            self.broken.append((uid, self._server_text(exc)))
            if len(self.broken) > MAX_BROKEN:  # so many bad mails: it is the line, not the mails
                raise
            self._reopen()
            return []

    def _metas(self, uids: list[int]) -> list[Meta]:
        typ, dat = self.conn.uid("FETCH", ",".join(str(u) for u in uids),
                                 "(RFC822.SIZE INTERNALDATE BODY.PEEK[HEADER.FIELDS (SUBJECT MESSAGE-ID)])")
        if typ != "OK":
            raise SourceError(f"{self._place}：读取邮件信息失败（服务器回复：{self._server_text(_reply(dat))}）")
        return [_meta(item[0], item[1]) for item in dat if isinstance(item, tuple)]

    def fetch(self, uid: int) -> bytes | None:
        with self._talk(f"下载邮件（UID {uid}）"):
            typ, dat = self.conn.uid("FETCH", str(uid), "(BODY.PEEK[])")
        for item in dat if typ == "OK" else []:
            if isinstance(item, tuple):
                return item[1]
        return None

    def exists(self, uid: int) -> bool:
        """Whether `uid` is still in the folder (another client may have deleted or moved it)."""
        with self._talk(f"查找邮件（UID {uid}）"):
            typ, dat = self.conn.uid("SEARCH", "UID", str(uid))
        return typ != "OK" or str(uid).encode() in b" ".join(d for d in dat if d).split()

    def move(self, uids: list[int], target: str) -> str | None:
        """Put exactly `uids` into `target` (created and subscribed when missing): None when they are
        there, else a Chinese error. Originals that cannot be expunged are left flagged deleted, with a
        warning."""
        if not uids:
            return None
        with self._talk(f"移动邮件到“{target}”"):
            return self._move(uids, target)

    def _move(self, uids: list[int], target: str) -> str | None:
        box = _mailbox(self.server_name(target))
        if self.conn.create(box)[0] == "OK":  # NO when it exists already: fine
            self.conn.subscribe(box)  # Foxmail and Outlook show subscribed folders only
        uidset = ",".join(str(u) for u in uids)
        if "MOVE" in self.conn.capabilities:
            typ, dat = self.conn.uid("MOVE", uidset, box)
            return None if typ == "OK" else f"移动到“{target}”失败（服务器回复：{self._server_text(_reply(dat))}）"
        typ, dat = self.conn.uid("COPY", uidset, box)
        if typ != "OK":
            return f"复制到“{target}”失败（服务器回复：{self._server_text(_reply(dat))}）"
        # flagged even when they cannot be expunged: mail clients then show them as deleted
        self.conn.uid("STORE", uidset, "+FLAGS.SILENT", r"(\Deleted)")
        if "UIDPLUS" not in self.conn.capabilities:
            self._warn(f"IMAP 服务器 {self.where} 不支持 UID EXPUNGE：{self._place} 中已复制到“{target}”的邮件只标记为已删除，"
                       "没有清除（普通 EXPUNGE 会误删其他邮件）；下次运行不会再复制它们，可在邮件客户端中清除已删除邮件")
            return None
        typ, dat = self.conn.uid("EXPUNGE", uidset)
        return (None if typ == "OK" else
                f"从“{self.src.folder}”清除已移动的邮件失败（服务器回复：{self._server_text(_reply(dat))}）")

    def close(self) -> None:
        try:  # LOGOUT without CLOSE: CLOSE would expunge every \\Deleted message in the folder
            self.conn.logout()
        except (OSError, imaplib.IMAP4.error):
            pass

    def __enter__(self) -> ImapSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _entries(dat: list) -> list[tuple[bytes, str, str]]:
    """(flags, separator or "", name) of each LIST answer line; a name sent as a literal comes as a tuple."""
    from imap_tools.imap_utf7 import utf7_decode

    out = []
    for item in dat:
        line = item[0].rsplit(b"{", 1)[0] + b'"' + item[1] + b'"' if isinstance(item, tuple) else item
        m = _LIST_ITEM.match(line) if isinstance(line, bytes) else None
        if m:
            name = m.group("name").strip()
            if name.startswith(b'"') and name.endswith(b'"'):
                name = name[1:-1].replace(b'\\"', b'"').replace(b"\\\\", b"\\")
            out.append((m.group("flags"), (m.group("sep") or b"").decode("ascii", "replace"), utf7_decode(name)))
    return out


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
