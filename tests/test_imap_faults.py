"""IMAP when things go wrong (issue 14, item 8, and item 7's Message-ID case over IMAP): a connection
dropped mid-FETCH, a plain connection, STARTTLS, a server echoing the LOGIN line, hostile URLs.

dovecot serves the cases it can produce; the faults it never makes (dropping the line mid-FETCH, echoing
the password, failing the TLS handshake) come from a small scripted server on 127.0.0.1 written here.
"""

from __future__ import annotations

import re
import socketserver
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests import mailfixtures as fx
from tests.dovecot import Dovecot, dovecot, dovecot_starttls  # noqa: F401 - pytest fixtures
from toolkit.mail import intake
from toolkit.mail.imap import parse_imap_url
from toolkit.mail.sources import SourceError

PASSWORD = "Secret-Auth-Code-16"
ESC = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def _mail(n: int, msgid: str | None = None) -> bytes:
    part = fx.part(f'attachment; filename="第{n}党支部申报表.xlsx"'.encode(), fx.form_xlsx(f"第{n}党支部"))
    return fx.message(f"申报材料{n}", f"b{n}@qq.com".encode(), [part], msgid=msgid or f"m{n}@test", date=fx._date(n))


class _Scripted(socketserver.StreamRequestHandler):
    """A tiny IMAP server with two messages; `fault` picks how it misbehaves."""

    fault: str
    seen: list[str]

    def handle(self) -> None:
        self.wfile.write(b"* OK scripted IMAP ready\r\n")
        mails = {1: _mail(1), 2: _mail(2)}
        for _ in range(40):
            line = self.rfile.readline()
            if not line:
                return
            text = line.decode("utf-8", "replace").rstrip("\r\n")
            self.seen.append(text)
            tag, _, rest = text.partition(" ")
            command = rest.split(" ", 1)[0].upper()
            if command == "CAPABILITY":
                extra = " STARTTLS" if self.fault == "bad_tls" else ""
                self.ok(tag, f"* CAPABILITY IMAP4rev1 AUTH=PLAIN{extra}")
            elif command == "STARTTLS":
                self.ok(tag)
                self.wfile.write(b"this is not a TLS handshake\r\n")
                return
            elif command == "LOGIN":
                if self.fault == "echo":  # a broken server quoting the whole command back, password included
                    self.wfile.write(f"{tag} NO [AUTHENTICATIONFAILED] \x1b]0;owned\x07{text} failed\r\n".encode())
                    continue
                self.ok(tag)
            elif command in ("SELECT", "EXAMINE"):
                self.ok(tag, "* 2 EXISTS", "* OK [UIDVALIDITY 7] ok")
            elif rest.upper().startswith("UID SEARCH"):
                self.ok(tag, "* SEARCH 1 2")
            elif rest.upper().startswith("UID FETCH") and "HEADER.FIELDS" in rest.upper():
                for uid, raw in mails.items():
                    head = raw.split(b"\r\n\r\n", 1)[0] + b"\r\n\r\n"
                    self.wfile.write(f'* {uid} FETCH (UID {uid} RFC822.SIZE {len(raw)} INTERNALDATE '
                                     f'"0{uid}-Aug-2024 09:30:00 +0800" BODY[HEADER.FIELDS (SUBJECT MESSAGE-ID)] '
                                     f"{{{len(head)}}}\r\n".encode() + head + b")\r\n")
                self.ok(tag)
            elif rest.upper().startswith("UID FETCH"):
                uid = int(rest.split(" ")[2])
                if uid == 2 and self.fault == "drop":
                    return  # the line goes dead in the middle of the batch
                raw = mails[uid]
                self.wfile.write(f"* {uid} FETCH (UID {uid} BODY[] {{{len(raw)}}}\r\n".encode() + raw + b")\r\n")
                self.ok(tag)
            elif command == "LOGOUT":
                self.ok(tag, "* BYE")
                return
            else:
                self.wfile.write(f"{tag} BAD unknown\r\n".encode())

    def ok(self, tag: str, *untagged: str) -> None:
        for line in untagged:
            self.wfile.write(line.encode() + b"\r\n")
        self.wfile.write(f"{tag} OK done\r\n".encode())


@pytest.fixture
def scripted() -> Iterator[Callable[[str], tuple[str, list[str]]]]:
    """`scripted(fault)` -> (imap:// URL of a server misbehaving so, the command lines it received)."""
    servers = []

    def start(fault: str) -> tuple[str, list[str]]:
        seen: list[str] = []
        handler = type("Handler", (_Scripted,), {"fault": fault, "seen": seen})
        server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        servers.append(server)
        return f"imap://branch@127.0.0.1:{server.server_address[1]}/INBOX", seen

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def _password(account: str) -> str:
    return PASSWORD


def test_connection_dropped_during_fetch_is_a_message_and_other_sources_run(scripted, tmp_path: Path) -> None:
    url, _ = scripted("drop")
    (tmp_path / "local.eml").write_bytes(_mail(3))

    report = intake([url, str(tmp_path / "local.eml")], tmp_path / "inbox", password=_password)

    [error] = report.errors
    assert "连接" in error and "中断" in error and "127.0.0.1" in error, error
    assert sorted(m.subject for m in report.messages) == ["申报材料1", "申报材料3"]  # before the drop, and the file
    assert report.has_rejections
    # the next run takes what the drop left behind, and only that
    again = intake([url], tmp_path / "inbox", password=_password)
    assert again.already_taken == 1


def test_dropped_connection_through_the_cli_exits_1_not_3(scripted, cli, tmp_path: Path, monkeypatch) -> None:
    url, _ = scripted("drop")
    monkeypatch.setenv("BRANDKIT_IMAP_PASSWORD", PASSWORD)
    proc = cli("intake", url, "-o", tmp_path / "inbox")
    assert proc.returncode == 1 and "内部错误" not in proc.stderr, proc.stdout + proc.stderr
    assert "中断" in proc.stdout


def test_server_echoing_the_login_line_never_shows_the_password(scripted, cli, tmp_path: Path, monkeypatch) -> None:
    url, seen = scripted("echo")
    report = intake([url], tmp_path / "inbox", password=_password)
    [error] = report.errors
    assert PASSWORD not in error and "授权码" in error and not ESC.search(error), error
    assert any(PASSWORD in line for line in seen)  # the server did get it, and sent it back

    monkeypatch.setenv("BRANDKIT_IMAP_PASSWORD", PASSWORD)
    for args in (("intake",), ("--json", "intake")):
        proc = cli(*args, url, "-o", tmp_path / "inbox")
        assert PASSWORD not in proc.stdout + proc.stderr and proc.returncode == 1
        assert not ESC.search(proc.stdout.replace("\n", "")), proc.stdout


def test_failed_starttls_never_falls_back_to_plain_text(scripted, tmp_path: Path) -> None:
    url, seen = scripted("bad_tls")
    report = intake([url], tmp_path / "inbox", password=_password)
    [error] = report.errors
    assert "STARTTLS" in error or "加密" in error, error
    assert not any(PASSWORD in line or "LOGIN" in line.upper() for line in seen), seen


def test_plain_imap_warns_that_the_password_travels_unencrypted(dovecot: Dovecot, cli, tmp_path: Path,  # noqa: F811
                                                               monkeypatch) -> None:
    monkeypatch.setenv("BRANDKIT_IMAP_PASSWORD", dovecot.password)
    proc = cli("intake", dovecot.url(), "-o", tmp_path / "inbox")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "明文" in proc.stdout and "imaps://" in proc.stdout
    report = intake([dovecot.url()], tmp_path / "inbox2", password=lambda a: dovecot.password)
    assert report.errors == [] and any("明文" in w for w in report.warnings)
    assert report.to_json()["warnings"] == report.warnings


def test_starttls_is_used_when_the_server_offers_it(dovecot_starttls: Dovecot, tmp_path: Path) -> None:  # noqa: F811
    conn = dovecot_starttls.client()
    try:
        assert conn.append("INBOX", None, None, _mail(4))[0] == "OK"
    finally:
        conn.logout()
    report = intake([dovecot_starttls.url()], tmp_path / "inbox", password=lambda a: dovecot_starttls.password)
    assert report.errors == [] and report.warnings == []
    assert [m.subject for m in report.messages] == ["申报材料4"]
    logins = [line for line in dovecot_starttls.log.splitlines() if "Login: user=<branch>" in line]
    assert logins and ", TLS" in logins[-1], logins


def test_a_mail_reusing_a_message_id_taken_from_a_file_is_taken_over_imap(dovecot: Dovecot,  # noqa: F811
                                                                           tmp_path: Path) -> None:
    (tmp_path / "file.eml").write_bytes(_mail(5, msgid="reused@client"))
    conn = dovecot.client()
    try:
        assert conn.append("INBOX", None, None, _mail(6, msgid="reused@client"))[0] == "OK"
        assert conn.append("INBOX", None, None, _mail(5, msgid="reused@client"))[0] == "OK"  # the same mail
    finally:
        conn.logout()
    inbox = tmp_path / "inbox"
    intake([str(tmp_path / "file.eml")], inbox)
    report = intake([dovecot.url()], inbox, password=lambda a: dovecot.password)
    saved = sorted(p.name for p in inbox.rglob("*.xlsx"))
    assert saved == ["第5党支部申报表.xlsx", "第6党支部申报表.xlsx"], saved
    assert report.errors == []


@pytest.mark.parametrize("url", [
    "imap://a%0D%0Ab001%20LOGOUT@127.0.0.1/INBOX", "imap://a%0Ab@127.0.0.1/INBOX", "imap://a%0Db@127.0.0.1/INBOX",
    "imaps://x%00y@127.0.0.1/INBOX", "imap://%22a%22@127.0.0.1/INBOX%0D%0AX",
])
def test_control_characters_in_the_url_are_refused(url: str) -> None:
    with pytest.raises(SourceError, match="控制字符"):
        parse_imap_url(url)


def test_a_password_that_cannot_be_sent_is_a_message(scripted, tmp_path: Path) -> None:
    url, seen = scripted("none")
    for bad in ("授权码ABCD", "abc\r\nA1 LOGOUT"):
        report = intake([url], tmp_path / "inbox", password=lambda a, b=bad: b)
        [error] = report.errors
        assert "密码" in error and bad not in error, error
    assert not any("LOGOUT" in line and "A1" in line for line in seen)
