"""Intake from saved mail: every broken attachment-name form, archives, .msg, idempotency, manifest."""

from __future__ import annotations

import hashlib
import json
import mailbox
from pathlib import Path

import pytest

from tests import mailfixtures as fx
from toolkit.mail import intake, read_manifest
from toolkit.mail.names import header_params


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def write_cases(folder: Path, cases: list[fx.Case]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for i, case in enumerate(cases):
        (folder / f"{i:02d}_{case.key}.eml").write_bytes(case.raw)


@pytest.fixture(scope="module")
def cases() -> list[fx.Case]:
    return fx.name_cases()


def test_every_broken_name_is_decoded_and_saved(tmp_path: Path, cases: list[fx.Case]) -> None:
    assert len(cases) >= 15
    write_cases(tmp_path / "mail", cases)
    inbox = tmp_path / "inbox"
    report = intake([str(tmp_path / "mail")], inbox)

    assert report.errors == []
    by_subject = {m.subject: m for m in report.messages}
    assert len(by_subject) == len(cases)
    for case in cases:
        msg = by_subject[f"{case.key} 申报材料"]
        saved = {Path(a["path"]).name: a["sha256"] for a in msg.attachments}
        assert saved == {name: sha(data) for name, data in case.saved.items()}, case.key
        for a in msg.attachments:
            assert Path(a["path"]).read_bytes() == case.saved[Path(a["path"]).name]
            assert Path(a["path"]).is_relative_to(inbox.resolve())
        assert [s.name for s in msg.skipped] == case.skipped, case.key
        if case.folder:
            assert {Path(a["path"]).parent.name for a in msg.attachments} == {case.folder}

    # harmless skips (a re-sent identical file) do not count as rejections; a big-attachment link does
    dup = by_subject["resent_duplicate 申报材料"].skipped[0]
    assert not dup.rejected and "内容完全相同" in dup.reason
    big = by_subject["big_attachment_link 申报材料"].skipped[0]
    assert "超大附件" in big.reason and "ftnExs_download" in big.reason
    assert report.has_rejections

    # JSON is DESIGN §4's shape, with the errors and the warnings (an unencrypted IMAP connection)
    doc = json.loads(json.dumps(report.to_json(), ensure_ascii=False))
    assert set(doc) == {"messages", "errors", "warnings"}
    first = doc["messages"][0]
    assert set(first) == {"message_id", "from", "subject", "date", "attachments", "skipped"}
    assert set(first["attachments"][0]) == {"name", "path", "sha256"}
    assert first["from"] == "张玥 <zhangyue@163.com>"
    assert first["date"] == "2024-08-01T09:30:00+08:00"


def test_second_run_takes_nothing_and_manifest_feeds_merge(tmp_path: Path, cases: list[fx.Case]) -> None:
    write_cases(tmp_path / "mail", cases[:5])
    inbox = tmp_path / "inbox"
    first = intake([str(tmp_path / "mail")], inbox)
    files_before = sorted(p for p in inbox.rglob("*") if p.is_file())
    second = intake([str(tmp_path / "mail")], inbox)
    assert second.messages == [] and second.errors == [] and second.already_taken == 5
    assert sorted(p for p in inbox.rglob("*") if p.is_file()) == files_before

    manifest = read_manifest(inbox)
    saved = [a for m in first.messages for a in m.attachments]
    assert len(manifest) == len(saved) == 5
    for a in saved:
        entry = manifest[str(Path(a["path"]).resolve())]
        assert entry["sha256"] == a["sha256"] == sha(Path(a["path"]).read_bytes())
    entry = manifest[str(Path(saved[0]["path"]).resolve())]
    assert entry == {"sender": "张玥 <zhangyue@163.com>", "received": "2024-08-01T09:30:00+08:00",
                     "message_id": "<gb2312_label_gbk_chars.1@test>", "subject": "gb2312_label_gbk_chars 申报材料",
                     "sha256": saved[0]["sha256"], "name": saved[0]["name"]}


def test_mbox_and_maildir_sources_and_filters(tmp_path: Path, cases: list[fx.Case]) -> None:
    box = mailbox.mbox(tmp_path / "all.mbox")
    for case in cases[:6]:
        box.add(case.raw)
    box.flush()
    maildir = mailbox.Maildir(tmp_path / "Maildir")
    for case in cases[6:9]:
        maildir.add(case.raw)
    from datetime import date

    report = intake([str(tmp_path / "all.mbox"), str(tmp_path / "Maildir")], tmp_path / "inbox",
                    since=date(2024, 8, 2), subject="RFC2231")
    assert sorted(m.subject for m in report.messages) == ["rfc2231 申报材料", "rfc2231_continuations 申报材料",
                                                          "rfc2231_gbk 申报材料"]
    names = sorted(Path(a["path"]).name for m in report.messages for a in m.attachments)
    assert names == ["第七党支部品牌建设申报表.xlsx", "第八党支部申报表.xlsx", "第六党支部申报表.xlsx"]


def test_saved_workbook_opens_in_libreoffice(tmp_path: Path, cases: list[fx.Case]) -> None:
    from tests.libreoffice import roundtrip_values

    zipped = next(c for c in cases if c.key == "zip_with_gbk_names")
    write_cases(tmp_path / "mail", [zipped])
    report = intake([str(tmp_path / "mail")], tmp_path / "inbox")
    xlsx = next(Path(a["path"]) for a in report.messages[0].attachments if a["path"].endswith(".xlsx"))
    values = roundtrip_values(xlsx)
    assert values["申报表"][0][:2] == ["党支部名称", "第十四党支部"]


def test_header_params_reference_cases() -> None:
    assert header_params(b'attachment; filename="a;b.xlsx"; size=3') == {"filename": "a;b.xlsx", "size": "3"}
    gbk = "玥.xlsx".encode("gbk")
    assert header_params(b"attachment; filename*0*=gb2312''" + fx.pct(gbk[:1]) + b"; filename*1*="
                         + fx.pct(gbk[1:]))["filename"] == "玥.xlsx"
