"""Pure parts of mail intake: IMAP URLs, passwords, safe names, rar fallback, fuzzing the parser."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from toolkit.mail import Limits
from toolkit.mail.archives import collect
from toolkit.mail.imap import ImapSource, parse_imap_url
from toolkit.mail.names import attachment_name, decode_header_bytes
from toolkit.mail.parse import parse_message
from toolkit.mail.secrets import ENV_VAR, MissingPassword, imap_password
from toolkit.mail.sources import SourceError


def test_imap_urls() -> None:
    assert parse_imap_url("imaps://dangban@163.com@imap.163.com/%E5%B7%B2%E5%A4%84%E7%90%86") == ImapSource(
        True, "dangban@163.com", "imap.163.com", 993, "已处理")
    assert parse_imap_url("imap://u@127.0.0.1:1143/") == ImapSource(False, "u", "127.0.0.1", 1143, "INBOX")
    assert parse_imap_url("/tmp/mail.mbox") is None
    with pytest.raises(SourceError, match="不能写密码"):
        parse_imap_url("imaps://u:secret@imap.qq.com/INBOX")


def test_password_from_env_then_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_VAR, "abcdEFGHijklMNOP")
    assert imap_password("u@imap.qq.com") == "abcdEFGHijklMNOP"
    monkeypatch.delenv(ENV_VAR)
    monkeypatch.setattr("sys.stdin", None)
    with pytest.raises(MissingPassword, match=f"{ENV_VAR}.*授权码"):
        imap_password("u@imap.qq.com")


@pytest.mark.parametrize(("raw", "safe"), [
    ("../../etc/passwd.xlsx", "passwd.xlsx"), ("C:\\Users\\张三\\申报表.xlsx", "申报表.xlsx"),
    ("..", "附件"), ("CON.xlsx", "_CON.xlsx"), ("a<b>:c|d?.xls", "a_b__c_d_.xls"), ("名\x00称.png", "名_称.png"),
    ("长" * 200 + ".xlsx", "长" * 62 + "~f9b19d85.xlsx"),  # 200 UTF-8 bytes, ending in a hash of the whole
])
def test_attachment_name(raw: str, safe: str) -> None:
    assert attachment_name(raw) == safe


def test_rar_without_tools_asks_for_zip(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "")
    found, [skipped] = collect("材料.rar", b"Rar!\x1a\x07\x01\x00" + bytes(100), Limits())
    assert found == [] and "请对方改用 zip" in skipped.reason


def test_unreadable_rar_asks_for_zip() -> None:
    found, [skipped] = collect("材料.rar", b"Rar!\x1a\x07\x00" + bytes(100), Limits())
    assert found == [] and "改用 zip" in skipped.reason


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_header_decoding_never_raises(raw: bytes) -> None:
    assert isinstance(decode_header_bytes(raw), str)


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=2000))
def test_parser_never_raises_beyond_its_contract(raw: bytes) -> None:
    try:
        parsed = parse_message(b"From: a@b.c\r\nContent-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\n" + raw)
    except ValueError:
        return
    assert isinstance(parsed.subject, str)
