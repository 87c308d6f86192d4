"""Sending through SMTP the way 163/126, QQ and Exchange take it: SSL on 465, STARTTLS on 587 (or 25).

The host comes from the option, else from the account's domain (163/126/QQ/Foxmail/Outlook.com); the
port from the option, else 465 (587 for Exchange/Outlook.com). A certificate is always checked. What the
server says reaches the user with the password cut out, on one line, bounded (as IMAP does); a refused
login names the 授权码 the Chinese providers ask for.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.message import Message

from toolkit.core.display import one_line

SSL_PORT, STARTTLS_PORT = 465, 587
# domain -> (host, port) of the providers Chinese offices use
PROVIDERS = {"163.com": ("smtp.163.com", SSL_PORT), "126.com": ("smtp.126.com", SSL_PORT),
             "yeah.net": ("smtp.yeah.net", SSL_PORT), "qq.com": ("smtp.qq.com", SSL_PORT),
             "foxmail.com": ("smtp.qq.com", SSL_PORT), "vip.qq.com": ("smtp.qq.com", SSL_PORT),
             "exmail.qq.com": ("smtp.exmail.qq.com", SSL_PORT), "outlook.com": ("smtp.office365.com", STARTTLS_PORT),
             "hotmail.com": ("smtp.office365.com", STARTTLS_PORT)}
_SERVER_TEXT_MAX = 300
TIMEOUT_S = 60


class SmtpError(Exception):
    """Sending failed (message in Chinese, never the password)."""


@dataclass(frozen=True)
class SmtpAccount:
    host: str
    port: int
    user: str
    tls: str | None = None  # "ssl" | "starttls"; None: SSL on 465, STARTTLS on any other port

    @property
    def implicit_tls(self) -> bool:
        """SSL from the first byte; else the session starts plain and must STARTTLS."""
        return self.tls == "ssl" if self.tls else self.port == SSL_PORT

    @property
    def account(self) -> str:
        return self.user if "@" in self.user else f"{self.user}@{self.host}"


def smtp_account(user: str, host: str | None = None, port: int | None = None, tls: str | None = None) -> SmtpAccount:
    """The account to send from: `host` and `port` as given, else the provider's for `user`'s domain."""
    domain = user.rpartition("@")[2].lower()
    known = PROVIDERS.get(domain)
    if host is None:
        if known is None:
            raise SmtpError(f"不知道 {user} 的发信服务器：请用 --smtp 指定（如 Exchange：--smtp mail.单位.cn --port 587）")
        host = known[0]
    if port is None:
        port = known[1] if known and known[0] == host else SSL_PORT
    return SmtpAccount(host, port, user, tls)


class Sender:
    """A logged-in SMTP session: `send` one message at a time."""

    def __init__(self, conn: smtplib.SMTP, account: SmtpAccount, secrets: tuple[str, ...]) -> None:
        self.conn, self.account, self._secrets = conn, account, secrets

    def send(self, msg: Message, sender: str, recipients: list[str]) -> None:
        from toolkit.mail.outgoing import message_bytes

        to = "、".join(recipients)
        try:
            refused = self.conn.sendmail(sender, recipients, message_bytes(msg))
        except smtplib.SMTPRecipientsRefused as exc:
            raise SmtpError(f"服务器拒收收件人 {to}：{self.said(exc)}") from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise SmtpError(f"发送给 {to} 失败：{self.said(exc)}") from exc
        if refused:
            raise SmtpError(f"服务器拒收收件人 {to}：{self.said(str(refused))}")

    def said(self, said: Exception | str) -> str:
        return server_text(said, self._secrets)


def server_text(said: Exception | str, secrets: tuple[str, ...]) -> str:
    """What the server said, fit to show: never the password, no control characters, bounded."""
    if isinstance(said, smtplib.SMTPResponseException):
        error = said.smtp_error
        text = f"{said.smtp_code} {error.decode('utf-8', 'replace') if isinstance(error, bytes) else error}"
    else:
        text = str(said)
    for secret in secrets:
        text = text.replace(secret, "******")
    text = one_line(text)
    return text if len(text) <= _SERVER_TEXT_MAX else text[: _SERVER_TEXT_MAX - 1] + "…"


@contextmanager
def smtp_session(account: SmtpAccount, password: str) -> Iterator[Sender]:
    """Connect (SSL, or STARTTLS which must succeed: never a password in clear text), log in, yield."""
    where = f"{account.host}:{account.port}"
    context = ssl.create_default_context()
    secrets = (password,)
    try:
        if account.implicit_tls:
            conn: smtplib.SMTP = smtplib.SMTP_SSL(account.host, account.port, timeout=TIMEOUT_S, context=context)
        else:
            conn = smtplib.SMTP(account.host, account.port, timeout=TIMEOUT_S)
            conn.ehlo()
            if not conn.has_extn("starttls"):
                conn.quit()
                raise SmtpError(f"发信服务器 {where} 不支持加密（STARTTLS），为免密码以明文传输，没有登录；"
                                f"请改用 SSL 端口（--port {SSL_PORT}）")
            conn.starttls(context=context)
            conn.ehlo()
    except ssl.SSLCertVerificationError as exc:
        raise SmtpError(f"发信服务器 {where} 的证书无法验证（{exc.verify_message}）：请核对服务器地址") from exc
    except (OSError, smtplib.SMTPException) as exc:
        raise SmtpError(f"无法连接发信服务器 {where}（{server_text(exc, secrets)}）：请检查服务器地址和端口"
                        f"（163/QQ：SSL 465；Exchange：STARTTLS 587）") from exc
    sender = Sender(conn, account, secrets)
    try:
        try:
            conn.login(account.user, password)
        except smtplib.SMTPAuthenticationError as exc:
            raise SmtpError(f"登录 {account.account} 失败（{sender.said(exc)}）：QQ/163 邮箱要用授权码，不是登录密码"
                            f"（网页邮箱“设置 → POP3/SMTP/IMAP”中开启 SMTP 服务后生成）") from exc
        except (OSError, smtplib.SMTPException) as exc:
            raise SmtpError(f"登录发信服务器 {where} 失败（{sender.said(exc)}）") from exc
        yield sender
    finally:
        try:
            conn.quit()
        except (OSError, smtplib.SMTPException):
            conn.close()
