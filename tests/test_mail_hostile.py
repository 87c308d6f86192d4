"""Hostile mail is reported message by message and never stops the rest of the mailbox."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests import mailfixtures as fx
from toolkit.mail import intake


@pytest.mark.slow  # a 274 MB message among the hostile ones
def test_hostile_mailbox_is_reported_and_the_rest_taken_in(tmp_path: Path) -> None:
    mail = tmp_path / "mail"
    mail.mkdir()
    hostile = fx.hostile_cases()
    for i, case in enumerate(hostile):
        (mail / f"{i:02d}_{case.key}.eml").write_bytes(case.raw)
    fx.big_eml(mail / "50_big.eml", 200)
    good = fx.name_cases()[5]
    (mail / "99_good.eml").write_bytes(good.raw)
    inbox = tmp_path / "inbox"

    report = intake([str(mail)], inbox)

    by_subject = {m.subject: m for m in report.messages}
    for case in hostile[:3]:
        msg = by_subject[case.key]
        saved = {Path(a["path"]).name: a["sha256"] for a in msg.attachments}
        assert saved == {n: hashlib.sha256(d).hexdigest() for n, d in case.saved.items()}, case.key
        assert [s.name for s in msg.skipped] == case.skipped, case.key
    bomb = {s.name: s.reason for s in by_subject["zip_bomb"].skipped}
    assert "300 MB" in bomb["bomb.zip"] and "压缩炸弹" in bomb["bomb.zip"]
    assert "压缩比" in bomb["small-bomb.zip/零.xlsx"]
    # traversal: everything stays inside the inbox
    for path in tmp_path.rglob("*.xlsx"):
        assert path.is_relative_to(inbox) or path.is_relative_to(mail)
    # the header with invalid bytes is still taken in, its names decoded lossily but safely
    bad = next(m for m in report.messages if m.message_id == "<bad@test>")
    assert bad.sender.endswith(" <bad@qq.com>") and "\x00" not in bad.subject
    assert len(bad.attachments) == 1 and Path(bad.attachments[0]["path"]).is_file()
    # the good message after all of them is taken in
    assert [Path(a["path"]).name for a in by_subject["rfc2231 申报材料"].attachments] == ["第六党支部申报表.xlsx"]

    errors = "\n".join(report.errors)
    assert "50_big.eml：邮件大小 274 MB，超过 100 MB 上限" in errors
    assert "truncated" in errors and "不完整" in errors
    assert "04_not_mail.eml：不是有效的邮件" in errors
    assert "邮件头含无法识别的字节" in errors
    assert len(report.messages) == 5  # bomb, traversal, truncated, bad header, good
    assert report.has_rejections


def test_outlook_msg_with_chinese_attachment_name(tmp_path: Path) -> None:
    form = fx.form_xlsx("第二十党支部")
    delivered = datetime(2024, 8, 5, 1, 2, 3, tzinfo=UTC)
    filetime = int((delivered - datetime(1601, 1, 1, tzinfo=UTC)).total_seconds() * 10_000_000)
    data = fx.outlook_msg("第二十党支部申报", "王五", "wangwu@hospital.cn",
                          {"第二十党支部品牌申报表.xlsx": form, "会议纪要.docx": b"PK\x03\x04 not really"},
                          filetime)
    (tmp_path / "申报.msg").write_bytes(data)

    report = intake([str(tmp_path / "申报.msg")], tmp_path / "inbox")

    assert report.errors == []
    [msg] = report.messages
    assert (msg.sender, msg.subject, msg.date) == ("王五 <wangwu@hospital.cn>", "第二十党支部申报",
                                                   "2024-08-05T01:02:03+00:00")
    saved, minutes = msg.attachments  # every attachment is kept, a damaged one too (merge says so)
    assert Path(saved["path"]).name == "第二十党支部品牌申报表.xlsx"
    assert Path(saved["path"]).parent.name == "2024-08-05_王五_wangwu@hospital.cn"
    assert Path(saved["path"]).read_bytes() == form
    assert Path(minutes["path"]).name == "会议纪要.docx" and msg.skipped == []
