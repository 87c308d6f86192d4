"""IMAP intake against a real dovecot on 127.0.0.1: take in, ID sent, idempotent, --move-to."""

from __future__ import annotations

import hashlib
from pathlib import Path

from tests import mailfixtures as fx
from tests.dovecot import Dovecot, dovecot  # noqa: F401 - pytest fixture
from toolkit.mail import intake
from toolkit.mail.imap import ImapSession, parse_imap_url


def append(server: Dovecot, raws: list[bytes], folder: str = "INBOX", flags: str = "") -> None:
    conn = server.client()
    try:
        for raw in raws:
            typ, dat = conn.append(folder, flags or None, None, raw)
            assert typ == "OK", dat
    finally:
        conn.logout()


def subjects(server: Dovecot, folder: str) -> list[str]:
    import email

    from toolkit.mail.imap import _mailbox
    from toolkit.mail.parse import RAW, header_text

    conn = server.client()
    try:
        typ, _ = conn.select(_mailbox(folder), readonly=True)
        assert typ == "OK"
        _, dat = conn.uid("SEARCH", "ALL")
        out = []
        for uid in dat[0].split():
            _, msg = conn.uid("FETCH", uid, "(BODY.PEEK[HEADER])")
            out.append(header_text(email.message_from_bytes(msg[0][1], policy=RAW), "Subject"))
        return sorted(out)
    finally:
        conn.logout()


def test_imap_intake_idempotent_and_move(dovecot: Dovecot, tmp_path: Path) -> None:  # noqa: F811
    cases = fx.name_cases()
    wanted = [cases[i] for i in (0, 1, 9, 13)]  # GB2312/GBK, split word, .xls by Content-Type name, GBK zip
    others = [fx.message("会议通知", b"office@163.com", [], msgid=f"note{i}@test", date=fx._date(3)) for i in (1, 2)]
    append(dovecot, [c.raw for c in wanted] + others)
    append(dovecot, [fx.message("他人标记删除", b"x@163.com", [], msgid="del@test", date=fx._date(4))],
           flags=r"(\Deleted)")
    inbox = tmp_path / "inbox"
    password = {f"{dovecot.user}@127.0.0.1": dovecot.password}.__getitem__

    first = intake([dovecot.url()], inbox, subject="申报材料", password=password)

    assert first.errors == []
    got = {Path(a["path"]).name: a["sha256"] for m in first.messages for a in m.attachments}
    assert got == {n: hashlib.sha256(d).hexdigest() for c in wanted for n, d in c.saved.items()}
    assert 'ID sent: name=brandkit' in dovecot.log
    assert all(m.date and m.date.startswith("20") for m in first.messages)  # INTERNALDATE

    second = intake([dovecot.url()], inbox, subject="申报材料", password=password)
    assert second.messages == [] and second.errors == [] and second.already_taken == 4

    third = intake([dovecot.url()], inbox, subject="申报材料", move_to="已处理", password=password)
    assert third.messages == [] and third.errors == [] and third.moved == 4
    assert subjects(dovecot, "已处理") == sorted(f"{c.key} 申报材料" for c in wanted)
    assert subjects(dovecot, "INBOX") == ["他人标记删除", "会议通知", "会议通知"]


def test_copy_and_uid_expunge_never_purges_other_deleted_mail(dovecot: Dovecot) -> None:  # noqa: F811
    append(dovecot, [fx.message(f"m{i}", b"a@qq.com", [], msgid=f"m{i}@t", date=fx._date(5)) for i in (1, 2)])
    append(dovecot, [fx.message("flagged", b"a@qq.com", [], msgid="f@t", date=fx._date(5))], flags=r"(\Deleted)")
    src = parse_imap_url(dovecot.url())
    with ImapSession(src, dovecot.password, readonly=False) as session:
        session.conn.capabilities = tuple(c for c in session.conn.capabilities if c != "MOVE")
        assert session.move([1], "Done") is None
    assert subjects(dovecot, "Done") == ["m1"]
    assert subjects(dovecot, "INBOX") == ["flagged", "m2"]


def test_wrong_password_names_the_authorisation_code(dovecot: Dovecot, tmp_path: Path) -> None:  # noqa: F811
    report = intake([dovecot.url()], tmp_path / "inbox", password=lambda account: "web-password")
    [error] = report.errors
    assert "登录 branch@127.0.0.1 失败" in error and "授权码" in error and "web-password" not in error
    assert report.has_rejections
