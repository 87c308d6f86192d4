"""LOGIN -> CAPABILITY -> ID -> SELECT against a server that behaves like NetEase 163/126 (FACTS "IMAP"):
ID is advertised only after login, and SELECT is refused ("Unsafe Login") until the client sent ID."""

from __future__ import annotations

import socketserver
import threading
from collections.abc import Iterator

import pytest

from toolkit.mail.imap import ImapSession, ImapSource
from toolkit.mail.sources import SourceError


class _NetEase(socketserver.StreamRequestHandler):
    commands: list[str]

    def handle(self) -> None:
        self.wfile.write(b"* OK Coremail System IMap Server Ready\r\n")
        logged_in = sent_id = False
        for _ in range(20):  # bounded: a well-behaved client needs 6 commands
            line = self.rfile.readline()
            if not line:
                return
            tag, command, *args = line.decode().strip().split(" ", 2)
            command = command.upper()
            self.commands.append(command)
            if command == "CAPABILITY":
                caps = "IMAP4rev1 ID UIDPLUS MOVE" if logged_in else "IMAP4rev1 AUTH=PLAIN"
                self.reply(tag, f"* CAPABILITY {caps}")
            elif command == "LOGIN":
                logged_in = args[0].split(" ")[1].strip('"') == "authcode16chars0"
                if not logged_in:
                    self.wfile.write(f"{tag} NO LOGIN Login error password error\r\n".encode())
                    continue
                self.reply(tag)
            elif command == "ID":
                sent_id = True
                self.reply(tag, '* ID ("name" "Coremail")')
            elif command in ("SELECT", "EXAMINE"):
                if not sent_id:
                    self.wfile.write(f"{tag} NO SELECT Unsafe Login. Please contact kefu@188.com for help\r\n".encode())
                    continue
                self.reply(tag, "* 0 EXISTS", "* OK [UIDVALIDITY 42] UIDs valid")
            elif command == "LOGOUT":
                self.reply(tag, "* BYE")
                return
            else:
                self.wfile.write(f"{tag} BAD unknown\r\n".encode())

    def reply(self, tag: str, *untagged: str) -> None:
        for line in untagged:
            self.wfile.write(line.encode() + b"\r\n")
        self.wfile.write(f"{tag} OK done\r\n".encode())


@pytest.fixture
def netease() -> Iterator[tuple[int, list[str]]]:
    commands: list[str] = []
    handler = type("Handler", (_NetEase,), {"commands": commands})
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], commands
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_login_then_id_then_select(netease: tuple[int, list[str]]) -> None:
    port, commands = netease
    with ImapSession(ImapSource(False, "branch@163.com", "127.0.0.1", port, "INBOX"), "authcode16chars0",
                     timeout=5) as session:
        assert session.uidvalidity == 42
    assert commands == ["CAPABILITY", "LOGIN", "CAPABILITY", "ID", "EXAMINE", "LOGOUT"]


def test_refused_login_explains_authorisation_code(netease: tuple[int, list[str]]) -> None:
    port, commands = netease
    with pytest.raises(SourceError, match="授权码") as info:
        ImapSession(ImapSource(False, "branch@163.com", "127.0.0.1", port, "INBOX"), "my-web-password", timeout=5)
    assert "my-web-password" not in str(info.value)
    assert "SELECT" not in commands and "EXAMINE" not in commands
