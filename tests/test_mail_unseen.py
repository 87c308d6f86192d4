"""Mail as real clients break it, beyond the reference cases: malformed header blocks, a BOM, mac/Windows
junk in zips, mails forwarded as attachments, Exchange .msg senders, damaged zips, folded encoded words,
Windows paths, China-time days, CST and non-RFC dates, unsuffixed mail files, HZ and rar member labels."""

from __future__ import annotations

import base64
import io
import shutil
import zipfile
from datetime import date
from pathlib import Path

import pytest

from tests import mailfixtures as fx
from toolkit.mail import IntakeReport, Limits, archives, intake, read_manifest
from toolkit.mail.archives import collect
from toolkit.mail.msg import parse_msg
from toolkit.mail.names import attachment_name, decode_header_bytes, header_params
from toolkit.mail.parse import parse_message

DATE = "Mon, 12 Aug 2024 10:00:00 +0800"
TOOLS = shutil.which("unar") or shutil.which("bsdtar")


def att(name: bytes, data: bytes) -> bytes:
    return fx.part(b'attachment; filename="' + name + b'"', data)


def mail(sender: bytes, parts: list[bytes], *, subject: str = "申报材料", extra: bytes = b"",
         date_: str = DATE) -> bytes:
    return fx.message(subject, sender, parts, msgid=f"{subject}.{sender.decode('latin-1')}@t", date=date_,
                      extra=extra)


def saved(report: IntakeReport, sender: str) -> dict[str, bytes]:
    """Saved file name -> bytes of the message(s) from `sender`."""
    return {Path(a["path"]).name: Path(a["path"]).read_bytes()
            for m in report.messages if m.sender == sender for a in m.attachments}


def test_a_malformed_header_line_keeps_every_attachment() -> None:
    form = fx.form_xlsx("内科")
    colonless = mail(b"nk@qq.com", [att(b"a.xlsx", form)], extra=b"X-Mailer Foxmail 7.2\r\n")
    parsed = parse_message(colonless)
    assert [(f.name, f.data) for f in parsed.found] == [("a.xlsx", form)]

    subject = "关于报送2024年度党建品牌申报表的通知".encode("gbk")
    folded = (b"From: nk@qq.com\r\nSubject: " + subject[:20] + b"\r\n" + subject[20:] + b"\r\nDate: " + DATE.encode()
              + b"\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\n"
              + att(b"b.xlsx", form) + b"\r\n--b--\r\n")
    parsed = parse_message(folded)
    assert parsed.subject == "关于报送2024年度党建品牌申报表的通知"
    assert [f.name for f in parsed.found] == ["b.xlsx"]

    # a part's own header block: filename= folded onto a new line without whitespace
    part = (b"Content-Type: application/octet-stream\r\nContent-Disposition: attachment;\r\n"
            + 'filename="内科申报表.xlsx"'.encode() + b"\r\nContent-Transfer-Encoding: base64\r\n\r\n"
            + fx.b64_lines(form))
    parsed = parse_message(mail(b"nk@qq.com", [part]))
    assert [(f.name, f.data) for f in parsed.found] == [("内科申报表.xlsx", form)]


def test_bom_and_leading_blank_lines_are_ignored() -> None:
    form = fx.form_xlsx("外科")
    for lead in (b"\xef\xbb\xbf", b"\r\n\r\n", b"\xef\xbb\xbf\r\n"):
        parsed = parse_message(lead + mail(b"wk@qq.com", [att(b"w.xlsx", form)]))
        assert parsed.sender == "wk@qq.com" and [f.name for f in parsed.found] == ["w.xlsx"]


def test_mac_and_windows_junk_is_not_saved(tmp_path: Path) -> None:
    form, logo = fx.form_xlsx("内科"), fx.png(3)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("内科支部/申报表.xlsx", form)
        zf.writestr("内科支部/标识.png", logo)
        zf.writestr("__MACOSX/内科支部/._申报表.xlsx", b"\x00\x05\x16\x07\x00\x02\x00\x00Mac OS X" + bytes(60))
        zf.writestr("内科支部/.DS_Store", b"\x00\x00\x00\x01Bud1" + bytes(30))
        zf.writestr("内科支部/Thumbs.db", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504))
        zf.writestr("内科支部/desktop.ini", b"[.ShellClassInfo]\r\n")
        zf.writestr("内科支部/~$申报表.xlsx", b"\x05zhang" + bytes(150))
    (tmp_path / "mail").mkdir()
    (tmp_path / "mail" / "mac.eml").write_bytes(mail(b"mac@qq.com", [att(b"mac.zip", buf.getvalue())]))
    lock = "~$申报表.xlsx".encode()
    (tmp_path / "mail" / "lock.eml").write_bytes(mail(b"lk@qq.com", [att(lock, b"\x05li" + bytes(159))]))
    report = intake([str(tmp_path / "mail")], tmp_path / "inbox")
    assert saved(report, "mac@qq.com") == {"申报表.xlsx": form, "标识.png": logo}
    assert saved(report, "lk@qq.com") == {}
    skipped = [s for m in report.messages for s in m.skipped]
    assert sorted(s.name for s in skipped) == ["mac.zip/内科支部/~$申报表.xlsx", "~$申报表.xlsx"]
    assert all(not s.rejected and "临时锁定文件" in s.reason for s in skipped)
    assert not report.has_rejections


def test_a_forwarded_mail_is_taken_as_its_sender_s_own(tmp_path: Path) -> None:
    own, fwd_b64, fwd_octet, fwd_msg = (fx.form_xlsx(n) for n in ("党办", "内科", "外科", "儿科"))
    inner = mail(fx.word("GBK", "内科支部".encode("gbk")) + b" <nk@qq.com>", [att(b"nk.xlsx", fwd_b64)],
                 subject="内科申报", date_="Sun, 11 Aug 2024 09:00:00 +0800")
    rfc822 = (b'Content-Type: message/rfc822; name="fwd.eml"\r\nContent-Transfer-Encoding: base64\r\n'
              b'Content-Disposition: attachment; filename="fwd.eml"\r\n\r\n' + fx.b64_lines(inner))
    octet = att("转发.eml".encode(), mail(b"wk@qq.com", [att(b"wk.xlsx", fwd_octet)], subject="外科申报",
                                         date_="Sat, 10 Aug 2024 09:00:00 +0800"))
    outlook = att(b"ek.msg", fx.outlook_msg("儿科申报", "儿科支部", "ek@qq.com", {"ek.xlsx": fwd_msg},
                                            133680672000000000))
    (tmp_path / "mail").mkdir()
    (tmp_path / "mail" / "fwd.eml").write_bytes(mail(b"office@163.com", [att(b"own.xlsx", own), rfc822, octet,
                                                                         outlook]))
    report = intake([str(tmp_path / "mail")], tmp_path / "inbox")
    assert report.errors == []
    assert saved(report, "office@163.com") == {"own.xlsx": own}
    assert saved(report, "内科支部 <nk@qq.com>") == {"nk.xlsx": fwd_b64}
    assert saved(report, "wk@qq.com") == {"wk.xlsx": fwd_octet}
    assert saved(report, "儿科支部 <ek@qq.com>") == {"ek.xlsx": fwd_msg}
    manifest = {Path(p).name: (Path(p).parent.name, e["sender"]) for p, e in read_manifest(tmp_path / "inbox").items()}
    assert manifest["nk.xlsx"] == ("2024-08-11_内科支部_nk@qq.com", "内科支部 <nk@qq.com>")
    assert manifest["wk.xlsx"] == ("2024-08-10_wk@qq.com", "wk@qq.com")
    again = intake([str(tmp_path / "mail")], tmp_path / "inbox")
    assert again.messages == [] and again.already_taken == 4

    # nesting is bounded like archives
    deep = parse_message(mail(b"a@qq.com", [rfc822]), Limits(mail_depth=0))
    assert deep.attached == [] and "多层嵌套" in deep.skipped[0].reason


def test_a_mail_saved_into_a_zip_is_read_as_a_mail(tmp_path: Path) -> None:
    form = fx.form_xlsx("内科")
    inner = mail(b"nk@qq.com", [att(b"nk.xlsx", form)], subject="内科申报", date_="Sun, 11 Aug 2024 09:00:00 +0800")
    packed = io.BytesIO()
    with zipfile.ZipFile(packed, "w") as zf:
        zf.writestr("邮件/内科申报.eml", inner)
    (tmp_path / "mail").mkdir()
    (tmp_path / "mail" / "z.eml").write_bytes(mail(b"office@163.com", [att(b"mails.zip", packed.getvalue())]))
    report = intake([str(tmp_path / "mail")], tmp_path / "inbox")
    assert saved(report, "nk@qq.com") == {"nk.xlsx": form} and saved(report, "office@163.com") == {}


def _x500_msg() -> bytes:
    from pyopenvba.cfb import CFB

    def utf16(text: str) -> bytes:
        return text.encode("utf-16-le")

    headers = "Received: by x; Mon, 12 Aug 2024 10:00:00 +0800\r\nFrom: =?gb2312?B?1cXI/Q==?= <zhangsan@corp.cn>\r\n\r\n"
    cfb = CFB.from_bytes(fx.empty_cfb())
    for stream, value in (("0037001F", "x500"), ("0C1A001F", "张三"), ("007D001F", headers),
                          ("0C1F001F", "/O=EXCHANGELABS/OU=EXCHANGE ADMINISTRATIVE GROUP/CN=RECIPIENTS/CN=ZHANGSAN")):
        cfb.add_stream_at([], f"__substg1.0_{stream}", utf16(value))
    cfb.add_stream_at([], "__properties_version1.0", bytes(32))
    return cfb.to_bytes()


def test_exchange_msg_sender_address_comes_from_transport_headers() -> None:
    parsed = parse_msg(_x500_msg())
    assert (parsed.sender, parsed.sender_address) == ("张三 <zhangsan@corp.cn>", "zhangsan@corp.cn")


def _truncated_zip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()[:-40]


def test_damaged_zip_is_unpacked_by_the_tools_or_skipped(monkeypatch: pytest.MonkeyPatch) -> None:
    form = fx.form_xlsx("护理部")
    damaged = _truncated_zip({"护理部申报表.xlsx": form})
    monkeypatch.setattr(archives, "UNPACKERS", [])
    found, [skipped] = collect("材料.zip", damaged, Limits())
    assert found == [] and "zip 压缩包已损坏" in skipped.reason
    # a damaged workbook is kept: merge reports it to the branch
    [kept], [] = collect("截断.xlsx", form[:3000], Limits())
    assert kept.data == form[:3000]
    # flagged UTF-8 over GBK names (some Windows tools): read as GBK
    flagged = fx.raw_zip({"药学部申报表.xlsx": form}, encoding="gbk", flags=0x800)
    [member], [] = collect("bf.zip", flagged, Limits())
    assert (member.name, member.data) == ("bf.zip/药学部申报表.xlsx", form)


@pytest.mark.skipif(not TOOLS, reason="needs unar or bsdtar")
def test_damaged_zip_members_are_taken_by_the_tools() -> None:
    form = fx.form_xlsx("护理部")
    found, _skipped = collect("材料.zip", _truncated_zip({"护理部申报表.xlsx": form}), Limits())
    assert [(f.name, f.data) for f in found] == [("材料.zip/护理部申报表.xlsx", form)]


@pytest.mark.skipif(not TOOLS, reason="needs unar or bsdtar")
def test_rar_members_are_labelled_relative_to_the_archive() -> None:
    form, logo = fx.form_xlsx("护理部"), fx.png(9)
    rar = fx.rar4({"护理部申报表.xlsx".encode("gbk"): form, "标识.png".encode("gbk"): logo})
    found, skipped = collect("材料.rar", rar, Limits())
    assert skipped == [] and sorted(f.name for f in found) == ["材料.rar/护理部申报表.xlsx", "材料.rar/标识.png"]


def test_names_folded_inside_a_word_windows_paths_and_hz() -> None:
    encoded = base64.b64encode("朱镕基珺喆支部申报表.xlsx".encode("gbk"))
    folded = b'attachment; filename="=?GBK?B?' + encoded[:12] + b"\r\n " + encoded[12:] + b'?="'
    assert header_params(folded)["filename"] == "朱镕基珺喆支部申报表.xlsx"
    path = header_params('attachment; filename="C:\\Users\\张三\\Desktop\\申报表.xlsx"'.encode())["filename"]
    assert attachment_name(path) == "申报表.xlsx"
    assert header_params(b'attachment; filename="a\\"b.xlsx"')["filename"] == 'a"b.xlsx'
    hz = b"=?hz-gb-2312?B?" + base64.b64encode("报名表.xlsx".encode("hz")) + b"?="
    assert decode_header_bytes(hz) == "报名表.xlsx"


def test_days_are_china_days(tmp_path: Path) -> None:
    form = fx.form_xlsx("早班")
    raw = b"Received: from mx by mx.qq.com; Wed, 14 Aug 2024 22:30:05 +0000\r\n" + mail(b"zb@qq.com",
                                                                                       [att(b"early.xlsx", form)])
    (tmp_path / "mail").mkdir()
    (tmp_path / "mail" / "early.eml").write_bytes(raw)
    report = intake([str(tmp_path / "mail")], tmp_path / "inbox", since=date(2024, 8, 15))
    [message] = report.messages
    assert message.date == "2024-08-14T22:30:05+00:00"  # stored as stamped
    assert Path(message.attachments[0]["path"]).parent.name == "2024-08-15_zb@qq.com"


@pytest.mark.parametrize(("stamp", "iso"), [
    ("Mon, 12 Aug 2024 10:00:00 CST", "2024-08-12T10:00:00+08:00"),
    ("2024-08-12 10:00:00", "2024-08-12T10:00:00+08:00"),
    ("2024/8/12 9:05", "2024-08-12T09:05:00+08:00"),
    ("2024年8月12日 10:00", "2024-08-12T10:00:00+08:00"),
    ("2024-08-12T02:00:00Z", "2024-08-12T02:00:00+00:00"),
])
def test_cst_and_non_rfc_dates(stamp: str, iso: str) -> None:
    parsed = parse_message(mail(b"d@qq.com", [att(b"d.xlsx", fx.form_xlsx("日期"))], date_=stamp))
    assert parsed.received is not None and parsed.received.isoformat() == iso


def test_mail_files_without_known_suffixes_are_found(tmp_path: Path) -> None:
    forms = [fx.form_xlsx(f"支部{n}") for n in range(3)]
    folder = tmp_path / "Local Folders"
    folder.mkdir()
    one = mail(b"tb@qq.com", [att(b"tb.xlsx", forms[0])]).replace(b"\r\n", b"\n")
    (folder / "Inbox").write_bytes(b"From MAILER-DAEMON Mon Aug 12 10:00:00 2024\n" + one + b"\n")
    (folder / "Inbox.msf").write_bytes(b'// <!-- <mdb:mork:z v="1.4"/> -->')
    apple = mail(b"apple@qq.com", [att(b"apple.xlsx", forms[1])])
    (folder / "1234.emlx").write_bytes(str(len(apple)).encode() + b"\n" + apple + b'<?xml version="1.0"?>\n<plist/>')
    (folder / "saved.txt").write_bytes(mail(b"txt@qq.com", [att(b"txt.xlsx", forms[2])]))
    (folder / "notes.docx").write_bytes(b"PK\x03\x04 not a mail")
    report = intake([str(folder)], tmp_path / "inbox")
    assert report.errors == []
    assert {Path(a["path"]).name: Path(a["path"]).read_bytes() for m in report.messages for a in m.attachments} == {
        "tb.xlsx": forms[0], "apple.xlsx": forms[1], "txt.xlsx": forms[2]}
    assert len(report.warnings) == 1 and "1 个文件不是邮件" in report.warnings[0] and str(folder) in report.warnings[0]



def test_an_outlook_mail_forwarded_inside_a_msg_is_its_own_message() -> None:
    from pyopenvba.cfb import CFB

    form = fx.form_xlsx("内科")
    cfb = CFB.from_bytes(fx.outlook_msg("转发", "党办", "office@163.com", {}))
    outer = "__attach_version1.0_#00000000"
    inner = [outer, "__substg1.0_3701000D"]
    cfb.add_substorage_at([], outer)
    cfb.add_stream_at([outer], "__substg1.0_3707001F", "内科支部来信.msg".encode("utf-16-le"))
    cfb.add_substorage_at([outer], inner[1])
    for stream, value in (("0037001F", "内科申报"), ("0C1A001F", "内科支部"), ("5D01001F", "nk@qq.com")):
        cfb.add_stream_at(inner, f"__substg1.0_{stream}", value.encode("utf-16-le"))
    cfb.add_substorage_at(inner, outer)
    cfb.add_stream_at([*inner, outer], "__substg1.0_3707001F", "nk.xlsx".encode("utf-16-le"))
    cfb.add_stream_at([*inner, outer], "__substg1.0_37010102", form)
    parsed = parse_msg(cfb.to_bytes())
    assert parsed.found == [] and parsed.skipped == []
    [forwarded] = parsed.attached
    assert (forwarded.sender, forwarded.subject) == ("内科支部 <nk@qq.com>", "内科申报")
    assert [(f.name, f.data) for f in forwarded.found] == [("nk.xlsx", form)]


def test_a_picture_the_body_shows_is_not_an_attachment_even_with_a_name() -> None:
    """QQ and Foxmail name the signature icon they show in the HTML body (Content-ID, name=, no
    disposition): taken as an attachment it became a form's logo. A named picture attached as a file stays."""

    png = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==")
    html = (b'Content-Type: text/html; charset="utf-8"\r\nContent-Transfer-Encoding: 7bit\r\n\r\n'
            b'<p>\xe7\x94\xb3\xe6\x8a\xa5\xe8\xa1\xa8</p><img src="cid:sig01@qq.com">\r\n')
    body_picture = (b'Content-Type: image/png; name="sig01.png"\r\nContent-ID: <sig01@qq.com>\r\n'
                    b'Content-Transfer-Encoding: base64\r\n\r\n' + base64.encodebytes(png))
    parsed = parse_message(mail(b"yxb@qq.com", [html, body_picture, att(b"logo.png", png)]))
    assert [f.name for f in parsed.found] == ["logo.png"]
    (icon,) = [s for s in parsed.skipped if s.name == "sig01.png"]
    assert not icon.rejected and "正文中的内嵌图片" in icon.reason
