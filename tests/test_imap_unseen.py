"""IMAP intake against a real dovecot, the cases a probe found: `--since` counted in China days, mails
with nothing saved left in place, a corrupt mail that makes the server hang up, a server without MOVE
and UIDPLUS, the created folder subscribed, "/" on a "." server, a mail deleted meanwhile, the progress
bar over several sources, and a program renamed 申报表.xlsx."""

from __future__ import annotations

import re
import socket
from datetime import date
from pathlib import Path

from tests import mailfixtures as fx
from tests.dovecot import Dovecot, dovecot  # noqa: F401 - pytest fixture
from tests.test_mail_imap import subjects
from toolkit.mail import Limits, intake
from toolkit.mail.imap import ImapSession, _mailbox
from toolkit.readers.kinds import sniff
from toolkit.render import progress_callback

MB = 2**20
EXE = b"MZ\x90\x00\x03\x00\x00\x00" + bytes(500)


def _mail(n: int, parts: list[bytes] | None = None, subject: str = "申报材料") -> bytes:
    if parts is None:
        parts = [fx.part(f'attachment; filename="第{n}党支部申报表.xlsx"'.encode(), fx.form_xlsx(f"第{n}党支部"))]
    return fx.message(f"{subject}{n}", f"b{n}@qq.com".encode(), parts, msgid=f"u{n}@test", date=fx._date(n))


def _append(server: Dovecot, raws: list[bytes], folder: str = "INBOX", when: list[str] | None = None) -> None:
    conn = server.client()
    try:
        for n, raw in enumerate(raws):
            typ, dat = conn.append(_mailbox(folder), None, when[n] if when else None, raw)
            assert typ == "OK", dat
    finally:
        conn.logout()


def _password(server: Dovecot):
    return lambda account: server.password


def test_since_counts_the_days_in_china_time(dovecot: Dovecot, tmp_path: Path) -> None:  # noqa: F811
    arrivals = {"A": '"29-Feb-2024 23:30:00 +0800"', "B": '"01-Mar-2024 00:30:00 +0800"',
                "C": '"01-Mar-2024 07:59:00 +0800"', "D": '"01-Mar-2024 08:30:00 +0800"',
                "E": '"29-Feb-2024 16:30:00 +0000"'}  # 00:30 on 1 March in China
    _append(dovecot, [_mail(n, subject=f"申报{key}") for n, key in enumerate(arrivals, 1)], when=list(arrivals.values()))

    report = intake([dovecot.url()], tmp_path / "inbox", since=date(2024, 3, 1), password=_password(dovecot))

    assert sorted(m.subject for m in report.messages) == ["申报B2", "申报C3", "申报D4", "申报E5"]
    assert report.errors == []


def test_a_mail_with_nothing_saved_stays_and_is_named_on_every_run(dovecot: Dovecot,  # noqa: F811
                                                                   tmp_path: Path) -> None:
    link = fx.text_part('<div>从QQ邮箱发来的超大附件</div><a href="https://mail.qq.com/cgi-bin/ftnExs_download?k=1">'
                        "申报表.xlsx (60M)</a>", "html")
    _append(dovecot, [_mail(1),
                      _mail(2, [fx.part(b'attachment; filename="a.zip"', fx.zip_bomb("a.xlsx", 5))]),
                      _mail(3, [fx.part('attachment; filename="申报表.xlsx"'.encode(), EXE)]),
                      _mail(4, [link]), _mail(5, [])])
    inbox = tmp_path / "inbox"
    limits = Limits(archive_total_bytes=2 * MB)

    first = intake([dovecot.url()], inbox, move_to="已处理", password=_password(dovecot), limits=limits)
    second = intake([dovecot.url()], inbox, move_to="已处理", password=_password(dovecot), limits=limits)

    assert subjects(dovecot, "已处理") == ["申报材料1"]
    assert subjects(dovecot, "INBOX") == ["申报材料2", "申报材料3", "申报材料4", "申报材料5"]
    assert first.moved == 1 and second.moved == 0 and second.already_taken == 4
    for report in (first, second):
        held = [w for w in report.warnings if "留在原邮件夹" in w]
        assert [re.search(r"UID (\d+)", w)[1] for w in held] == ["2", "3", "4", "5"], held
        assert "超大附件" in held[2] and "没有可保存的附件" in held[3]
    assert sorted(p.name for p in inbox.rglob("*.xlsx")) == ["第1党支部申报表.xlsx"]  # the program is not saved
    [exe] = [s for m in first.messages for s in m.skipped if s.name == "申报表.xlsx" and "可执行程序" in s.reason]
    assert exe.rejected


def test_a_program_named_like_a_form_is_sniffed_as_a_program() -> None:
    assert sniff(EXE, "申报表.xlsx") == "exe"
    assert sniff(b"MZ,name\r\n1,2\r\n", "a.csv") == "csv"  # text that merely starts with MZ


def _corrupt(server: Dovecot, uid_index: int) -> None:
    """Make one maildir file claim a smaller size than it has: dovecot then hangs up on any FETCH of it."""
    maildir = server.root / "mail" / server.user / "Maildir"
    files = sorted([*(maildir / "cur").glob("*"), *(maildir / "new").glob("*")], key=lambda p: p.name)
    bad = files[uid_index]
    bad.rename(bad.with_name(re.sub(r",W=\d+", ",W=2050", re.sub(r",S=\d+", ",S=2000", bad.name))))
    for index in maildir.glob("dovecot.index*"):
        index.unlink()


def test_a_corrupt_mail_is_named_and_the_rest_of_the_folder_taken(dovecot: Dovecot,  # noqa: F811
                                                                  tmp_path: Path) -> None:
    big = [fx.part(b'attachment; filename="big.png"', fx.png(7, (400, 400)) + bytes(40_000))]
    _append(dovecot, [_mail(1), _mail(2, big), _mail(3)])
    _corrupt(dovecot, 1)
    inbox = tmp_path / "inbox"

    for _ in range(2):  # and again: the bad mail never blocks the folder
        report = intake([dovecot.url()], inbox, move_to="Done", password=_password(dovecot))
        [error] = report.errors
        assert "UID" in error and "branch@127.0.0.1/INBOX" in error and "已跳过" in error, error
    assert subjects(dovecot, "Done") == ["申报材料1", "申报材料3"]


def test_without_move_and_uidplus_nothing_is_copied_twice(dovecot: Dovecot, tmp_path: Path,  # noqa: F811
                                                          monkeypatch) -> None:
    refresh = ImapSession.refresh_capabilities

    def old_server(self: ImapSession) -> None:
        refresh(self)
        self.conn.capabilities = tuple(c for c in self.conn.capabilities if c not in ("MOVE", "UIDPLUS"))

    monkeypatch.setattr(ImapSession, "refresh_capabilities", old_server)
    _append(dovecot, [_mail(1), _mail(2)])
    for run in range(3):
        report = intake([dovecot.url()], tmp_path / "inbox", move_to="已处理", password=_password(dovecot))
        assert report.errors == [] and report.moved == (2 if run == 0 else 0)
        assert any("UID EXPUNGE" in w for w in report.warnings) == (run == 0)  # said when it happens
    assert subjects(dovecot, "已处理") == ["申报材料1", "申报材料2"]
    conn = dovecot.client()
    try:
        conn.select("INBOX", readonly=True)
        assert conn.uid("SEARCH", "DELETED")[1] == [b"1 2"]  # flagged, so mail clients show them as gone
    finally:
        conn.logout()


def test_the_created_folder_is_subscribed_and_the_move_is_said(dovecot: Dovecot, cli, tmp_path: Path,  # noqa: F811
                                                              monkeypatch) -> None:
    _append(dovecot, [_mail(1), _mail(2)])
    monkeypatch.setenv("BRANDKIT_IMAP_PASSWORD", dovecot.password)
    proc = cli("intake", dovecot.url(), "-o", tmp_path / "inbox", "--move-to", "已处理")
    assert proc.returncode == 0 and "已移动 2 封到 已处理" in proc.stdout, proc.stdout
    conn = dovecot.client()
    try:
        assert _mailbox("已处理").strip('"').encode() in b" ".join(conn.lsub()[1])
    finally:
        conn.logout()


def test_folders_written_with_slashes_work_on_a_dot_server(dovecot: Dovecot, tmp_path: Path) -> None:  # noqa: F811
    conn = dovecot.client()
    try:
        assert conn.create(_mailbox("申报材料.2024"))[0] == "OK"  # dovecot's maildir separates with "."
    finally:
        conn.logout()
    _append(dovecot, [_mail(1)], folder="申报材料.2024")

    report = intake([dovecot.url("申报材料/2024")], tmp_path / "inbox", move_to="已处理/2024",
                    password=_password(dovecot))
    assert report.errors == [] and report.moved == 1
    assert subjects(dovecot, "已处理.2024") == ["申报材料1"]

    missing = intake([dovecot.url("申报材料/2025")], tmp_path / "inbox", password=_password(dovecot))
    [error] = missing.errors
    assert "没有邮件夹“申报材料/2025”" in error and "“申报材料/2024”" in error and "“INBOX”" in error, error
    assert "Name must not" not in error


def test_a_mail_deleted_by_another_client_meanwhile_is_a_note(dovecot: Dovecot, tmp_path: Path,  # noqa: F811
                                                             monkeypatch) -> None:
    _append(dovecot, [_mail(1), _mail(2), _mail(3)])
    fetch = ImapSession.fetch

    def other_client_deletes_uid_2(self: ImapSession, uid: int) -> bytes | None:
        if uid == 2:
            other = dovecot.client()
            other.select("INBOX")
            other.uid("STORE", "2", "+FLAGS", r"(\Deleted)")
            other.expunge()
            other.logout()
        return fetch(self, uid)

    monkeypatch.setattr(ImapSession, "fetch", other_client_deletes_uid_2)
    report = intake([dovecot.url()], tmp_path / "inbox", password=_password(dovecot))
    assert report.errors == [] and not report.has_rejections
    assert sorted(m.subject for m in report.messages) == ["申报材料1", "申报材料3"]
    assert any("UID 2" in w and "已被其他客户端删除或移走" in w for w in report.warnings), report.warnings


def test_a_lost_connection_names_the_folder_and_ends_the_progress(dovecot: Dovecot, tmp_path: Path,  # noqa: F811
                                                                  monkeypatch) -> None:
    conn = dovecot.client()
    try:
        assert conn.create("Two")[0] == "OK"
    finally:
        conn.logout()
    _append(dovecot, [_mail(1), _mail(2), _mail(3)])
    _append(dovecot, [_mail(4)], folder="Two")
    fetch = ImapSession.fetch

    def line_goes_dead_at_uid_2(self: ImapSession, uid: int) -> bytes | None:
        if self.src.folder == "INBOX" and uid == 2:
            self.conn.sock.shutdown(socket.SHUT_RDWR)
        return fetch(self, uid)

    monkeypatch.setattr(ImapSession, "fetch", line_goes_dead_at_uid_2)
    calls: list[tuple[int, int]] = []
    report = intake([dovecot.url(), dovecot.url("Two")], tmp_path / "inbox", password=_password(dovecot),
                    progress=lambda done, total: calls.append((done, total)))
    [error] = report.errors
    assert "中断" in error and "branch@127.0.0.1/INBOX" in error, error
    assert sorted(m.subject for m in report.messages) == ["申报材料1", "申报材料4"]
    assert calls[-1][0] == calls[-1][1] == 2, calls  # the bar ends when the run does


def test_the_progress_bar_follows_every_source(monkeypatch) -> None:
    import rich.progress

    seen: list[tuple[str, object]] = []

    class Recorded(rich.progress.Progress):
        def start(self) -> None:
            seen.append(("start", None))

        def stop(self) -> None:
            seen.append(("stop", None))

        def update(self, task, **fields) -> None:  # type: ignore[override]
            seen.append(("total", fields.get("total", self.tasks[0].total)))
            super().update(task, **fields)

    monkeypatch.setattr(rich.progress, "Progress", Recorded)
    update = progress_callback("收取")
    for done, total in ((1, 2), (2, 2), (3, 4), (4, 4)):
        update(done, total)
    assert [e for e, _ in seen if e != "total"] == ["start", "stop", "start", "stop"]
    assert seen[-2] == ("total", 4)
