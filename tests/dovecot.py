"""A real dovecot IMAP server on 127.0.0.1 at a free port, from a throwaway config (FACTS "IMAP").

`make test` installs dovecot-imapd when running as root, so a missing dovecot fails the test then; a
non-root developer without it gets a skip with the reason printed. Every wait here is bounded.
"""

from __future__ import annotations

import getpass
import grp
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

USER, PASSWORD = "branch", "abcdEFGHijklMNOP"  # a 16-character 授权码, as QQ issues
START_TIMEOUT = 10.0


@dataclass(frozen=True)
class Dovecot:
    port: int
    root: Path
    user: str
    password: str

    @property
    def log(self) -> str:
        return (self.root / "dovecot.log").read_text(encoding="utf-8", errors="replace")

    def url(self, folder: str = "INBOX") -> str:
        return f"imap://{self.user}@127.0.0.1:{self.port}/{folder}"

    def client(self):
        import imaplib

        conn = imaplib.IMAP4("127.0.0.1", self.port, timeout=10)
        conn.login(self.user, self.password)
        return conn


def _binary() -> str:
    found = shutil.which("dovecot") or next((p for p in ("/usr/sbin/dovecot",) if os.path.exists(p)), None)
    if found:
        return found
    if os.geteuid() == 0:
        raise AssertionError("dovecot is not installed; `make test` installs dovecot-imapd (apt-get) as root")
    print("SKIP: dovecot is not installed and this is not root; install dovecot-imapd to run IMAP tests")
    pytest.skip("dovecot not installed (not root, so `make test` could not install it)")
    raise AssertionError("unreachable")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _certificate(root: Path) -> str:
    """A throwaway self-signed certificate for STARTTLS: dovecot config lines naming it."""
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-keyout", str(root / "key.pem"), "-out", str(root / "cert.pem")],
                   check=True, capture_output=True, timeout=60)
    return f"ssl = yes\nssl_cert = <{root}/cert.pem\nssl_key = <{root}/key.pem\n"


def _config(root: Path, port: int, tls: bool = False) -> str:
    if os.geteuid() == 0:
        owner = "mail_uid = nobody\nmail_gid = nogroup\nfirst_valid_uid = 1\n"
    else:
        me, group = getpass.getuser(), grp.getgrgid(os.getgid()).gr_name
        owner = (f"mail_uid = {me}\nmail_gid = {group}\ndefault_login_user = {me}\n"
                 f"default_internal_user = {me}\nfirst_valid_uid = {os.getuid()}\n")
    return f"""
protocols = imap
listen = 127.0.0.1
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
{_certificate(root) if tls else "ssl = no"}
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:{root}/mail/%u/Maildir
{owner}
passdb {{
  driver = passwd-file
  args = {root}/passwd
}}
userdb {{
  driver = static
  args = home={root}/mail/%u
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
protocol imap {{
  imap_id_log = *
}}
"""


def _wait_for_greeting(port: int, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"dovecot exited with {proc.returncode}: {proc.stderr.read().decode(errors='replace')}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                if s.recv(100).startswith(b"* OK"):
                    return
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"dovecot did not greet on 127.0.0.1:{port} within {START_TIMEOUT} s")


@pytest.fixture
def dovecot() -> Iterator[Dovecot]:
    yield from _serve(tls=False)


@pytest.fixture
def dovecot_starttls() -> Iterator[Dovecot]:
    """dovecot offering STARTTLS on its plain port (a self-signed certificate), as most servers do."""
    yield from _serve(tls=True)


def _serve(tls: bool) -> Iterator[Dovecot]:
    binary = _binary()
    root = Path(tempfile.mkdtemp(prefix="brandkit-dovecot-"))
    root.chmod(0o755)  # dovecot's auth process must be able to enter it
    (root / "mail").mkdir(mode=0o777)
    (root / "mail").chmod(0o777)
    if os.geteuid() == 0:
        nobody = pwd.getpwnam("nobody")
        os.chown(root / "mail", nobody.pw_uid, grp.getgrnam("nogroup").gr_gid)
    (root / "passwd").write_text(f"{USER}:{{PLAIN}}{PASSWORD}\n", encoding="utf-8")
    port = _free_port()
    conf = root / "dovecot.conf"
    conf.write_text(_config(root, port, tls), encoding="utf-8")
    proc = subprocess.Popen([binary, "-F", "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        _wait_for_greeting(port, proc)
        yield Dovecot(port, root, USER, PASSWORD)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
        shutil.rmtree(root, ignore_errors=True)
