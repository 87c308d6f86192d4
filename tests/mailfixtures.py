"""Builders for test mail: raw RFC 5322 messages with attachment names in every broken form Chinese mail
clients produce (FACTS "Mail from Chinese clients"), zips with GBK member names, Outlook .msg files (built
as OLE compound files with pyOpenVBA's CFB writer, MIT), and hostile messages.

Every builder returns bytes exactly as a client would have sent them; nothing here goes through
`email`'s generator, which would "fix" the very headers under test.
"""

from __future__ import annotations

import base64
import io
import struct
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote_from_bytes

from tests.paths import CORPUS


def form_xlsx(branch: str) -> bytes:
    """A small real .xlsx whose A1/B1 carry the branch name (every attachment's bytes differ)."""
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "申报表"
    ws["A1"], ws["B1"] = "党支部名称", branch
    ws["A2"], ws["B2"] = "党员总数", 23
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def png(seed: int, size: tuple[int, int] = (8, 8)) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", size, (seed % 256, 80, 160)).save(buf, "PNG")
    return buf.getvalue()


def b64(data: bytes) -> bytes:
    return base64.b64encode(data)


def b64_lines(data: bytes) -> bytes:
    return base64.encodebytes(data).replace(b"\n", b"\r\n")


def word(charset: str, raw: bytes) -> bytes:
    """An RFC 2047 B encoded word."""
    return b"=?" + charset.encode() + b"?B?" + b64(raw) + b"?="


def part(disposition: bytes | None, data: bytes, ctype: bytes = b"application/octet-stream") -> bytes:
    """One MIME part; `disposition` is the raw Content-Disposition value (or None)."""
    head = b"Content-Type: " + ctype + b"\r\nContent-Transfer-Encoding: base64\r\n"
    if disposition is not None:
        head += b"Content-Disposition: " + disposition + b"\r\n"
    return head + b"\r\n" + b64_lines(data)


def text_part(text: str, subtype: str = "plain") -> bytes:
    return (f"Content-Type: text/{subtype}; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n"
            .encode() + b64_lines(text.encode()))


def message(subject: str, sender: bytes, parts: list[bytes], *, msgid: str, date: str,
            boundary: bytes = b"==brandkit-test==", extra: bytes = b"", close: bool = True) -> bytes:
    head = (b"From: " + sender + b"\r\nTo: dangban@example.cn\r\nSubject: " + word("UTF-8", subject.encode())
            + b"\r\nDate: " + date.encode() + b"\r\nMessage-ID: <" + msgid.encode() + b">\r\nMIME-Version: 1.0\r\n"
            + extra + b"Content-Type: multipart/mixed; boundary=\"" + boundary + b"\"\r\n\r\n")
    body = b"".join(b"--" + boundary + b"\r\n" + p + b"\r\n" for p in [text_part("请查收附件。"), *parts])
    return head + body + (b"--" + boundary + b"--\r\n" if close else b"")


def raw_zip(members: dict[str, bytes], encoding: str = "gbk", flags: int = 0) -> bytes:
    """A zip as Chinese Windows tools write it: member names in `encoding`, UTF-8 flag (0x800) not set.
    Written by hand because zipfile always writes non-ASCII names as flagged UTF-8."""
    return _zip_from(((name.encode(encoding), _deflate([data])) for name, data in members.items()), flags)


def zip_bomb(member: str, megabytes: int) -> bytes:
    """A real zip bomb: `megabytes` MB of zeros in one member (compressed ~1000:1), built in 1 MB steps."""
    return _zip_from([(member.encode("gbk"), _deflate(bytes(2**20) for _ in range(megabytes)))], 0)


def _deflate(chunks) -> tuple[bytes, int, int]:
    co, crc, size, out = zlib.compressobj(6, zlib.DEFLATED, -15), 0, 0, bytearray()
    for chunk in chunks:
        crc, size = zlib.crc32(chunk, crc), size + len(chunk)
        out += co.compress(chunk)
    return bytes(out + co.flush()), crc, size


def _zip_from(entries, flags: int) -> bytes:
    buf, central = bytearray(), []
    for name, (comp, crc, size) in entries:
        offset = len(buf)
        buf += struct.pack("<4sHHHHHIIIHH", b"PK\x03\x04", 20, flags, 8, 0, 0x21, crc, len(comp), size,
                           len(name), 0) + name + comp
        central.append(struct.pack("<4sHHHHHHIIIHHHHHII", b"PK\x01\x02", 20, 20, flags, 8, 0, 0x21, crc,
                                   len(comp), size, len(name), 0, 0, 0, 0, 0, offset) + name)
    start = len(buf)
    for entry in central:
        buf += entry
    buf += struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, len(central), len(central), len(buf) - start, start, 0)
    return bytes(buf)


def q_word(charset: str, raw: bytes) -> bytes:
    """An RFC 2047 Q encoded word with every byte escaped."""
    return b"=?" + charset.encode() + b"?Q?" + b"".join(b"=%02X" % c for c in raw) + b"?="


def pct(raw: bytes) -> bytes:
    return quote_from_bytes(raw, safe="").encode()


@dataclass
class Case:
    """One test message and what intake must make of it."""

    key: str
    raw: bytes
    saved: dict[str, bytes] = field(default_factory=dict)  # saved file name -> exact bytes
    skipped: list[str] = field(default_factory=list)  # names reported as skipped
    folder: str | None = None  # expected `<date>_<sender>` folder, when the case checks it


def _sender(n: int) -> bytes:
    return f"branch{n}@qq.com".encode()


def _date(n: int) -> str:
    return f"Thu, {n:02d} Aug 2024 09:30:00 +0800"


def name_cases() -> list[Case]:
    """Twenty messages: every broken-name form of FACTS plus .xls, GBK zip, picture, 超大附件, none."""
    cases: list[Case] = []

    def add(key: str, n: int, parts: list[bytes], saved: dict[str, bytes], skipped: list[str] | None = None,
            sender: bytes | None = None, folder: str | None = None) -> None:
        raw = message(f"{key} 申报材料", sender or _sender(n), parts, msgid=f"{key}.{n}@test", date=_date(n))
        cases.append(Case(key, raw, saved, skipped or [], folder))

    def one(key: str, n: int, name: str, disposition: bytes, **kw) -> None:
        data = form_xlsx(name)
        add(key, n, [part(disposition, data)], {name: data}, **kw)

    gbk = "第二党支部品牌申报表.xlsx".encode("gbk")
    utf = "第十二党支部申报表（修改稿）.xlsx".encode()
    cont = "第七党支部品牌建设申报表.xlsx".encode()
    one("gb2312_label_gbk_chars", 1, "玥堃党支部申报表.xlsx",
        b'attachment; filename="' + word("GB2312", "玥堃党支部申报表.xlsx".encode("gbk")) + b'"',
        sender=word("GB2312", "张玥".encode("gbk")) + b" <zhangyue@163.com>", folder="2024-08-01_张玥_zhangyue@163.com")
    one("gbk_split_mid_character", 2, "第二党支部品牌申报表.xlsx",
        b'attachment; filename="' + word("GBK", gbk[:3]) + b"\r\n\t" + word("GBK", gbk[3:]) + b'"')
    one("raw_8bit_gbk", 3, "第三党支部申报表.xlsx",
        'attachment; filename="第三党支部申报表.xlsx"'.encode("gbk"),
        sender='"李四" <lisi@qq.com>'.encode("gbk"), folder="2024-08-03_李四_lisi@qq.com")
    one("x_gbk_label", 4, "第四党支部申报表.xlsx",
        b'attachment; filename="' + word("x-gbk", "第四党支部申报表.xlsx".encode("gbk")) + b'"')
    one("unquoted_encoded_word", 5, "第五党支部申报表.xlsx",
        b"attachment; filename=" + word("UTF-8", "第五党支部申报表.xlsx".encode()))
    one("rfc2231", 6, "第六党支部申报表.xlsx",
        b"attachment; filename*=UTF-8''" + pct("第六党支部申报表.xlsx".encode()))
    one("rfc2231_continuations", 7, "第七党支部品牌建设申报表.xlsx",
        b"attachment;\r\n filename*0*=UTF-8''" + pct(cont[:8]) + b";\r\n filename*1*=" + pct(cont[8:]))
    one("rfc2231_gbk", 8, "第八党支部申报表.xlsx",
        b"attachment; filename*=GBK''" + pct("第八党支部申报表.xlsx".encode("gbk")))
    one("q_encoded_gb2312", 9, "第九党支部申报表.xlsx",
        b'attachment; filename="' + q_word("gb2312", "第九党支部申报表.xlsx".encode("gbk")) + b'"')
    xls = (CORPUS / "calamine/date.xls").read_bytes()
    add("content_type_name_only_xls", 10,
        [part(None, xls, b'application/vnd.ms-excel; name="' + word("GBK", "第十党支部申报表.xls".encode("gbk")) + b'"')],
        {"第十党支部申报表.xls": xls})
    one("raw_8bit_utf8", 11, "第十一党支部申报表.xlsx", 'attachment; filename="第十一党支部申报表.xlsx"'.encode())
    one("utf8_split_mid_character", 12, "第十二党支部申报表（修改稿）.xlsx",
        b'attachment; filename="' + word("UTF-8", utf[:10]) + b" " + word("UTF-8", utf[10:]) + b'"')
    one("gb18030_four_byte", 13, "第十三党支部𠮷申报表.xlsx",
        b'attachment; filename="' + word("GB18030", "第十三党支部𠮷申报表.xlsx".encode("gb18030")) + b'"')
    form14, logo14 = form_xlsx("第十四党支部"), png(14)
    add("zip_with_gbk_names", 14,
        [part(b'attachment; filename="' + word("GBK", "第十四党支部材料.zip".encode("gbk")) + b'"',
              raw_zip({"第十四党支部/申报表.xlsx": form14, "第十四党支部/品牌标识.png": logo14,
                       "第十四党支部/说明.txt": "请审阅".encode("gbk")}))],
        {"申报表.xlsx": form14, "品牌标识.png": logo14, "说明.txt": "请审阅".encode("gbk")})
    logo15 = png(15, (64, 48))
    add("picture", 15, [part(b'attachment; filename="' + word("UTF-8", "品牌标识.png".encode()) + b'"', logo15,
                             b"image/png")], {"品牌标识.png": logo15})
    body = ("<p>从QQ邮箱发来的超大附件</p><p>第十六党支部申报表.xlsx (120.5M, 2024年08月30日 12:00 到期)</p>"
            '<a href="https://mail.qq.com/cgi-bin/ftnExs_download?k=abc123&t=exs_ftn_download">进入下载页面</a>')
    add("big_attachment_link", 16, [text_part(body, "html")], {}, ["第十六党支部申报表.xlsx"])
    add("no_attachment", 17, [], {})
    data18 = form_xlsx("第十八党支部")
    add("windows_path_no_suffix", 18,
        [part(b'attachment; filename="' + word("UTF-8", "C:\\Users\\张三\\Desktop\\第十八党支部申报表".encode())
              + b'"', data18)], {"第十八党支部申报表.xlsx": data18})
    data19 = form_xlsx("第十九党支部")
    add("pdf_kept", 19, [part(b'attachment; filename="' + word("UTF-8", "通知.pdf".encode()) + b'"',
                              b"%PDF-1.4\n%test\n"),
                         part(b'attachment; filename="' + word("UTF-8", "第十九党支部.dat".encode()) + b'"', data19)],
        {"第十九党支部.dat.xlsx": data19, "通知.pdf": b"%PDF-1.4\n%test\n"})
    add("resent_duplicate", 20, [part(b'attachment; filename="' + word("UTF-8", "重发.xlsx".encode()) + b'"', data19)],
        {}, ["重发.xlsx"])
    return cases


def empty_cfb() -> bytes:
    """An empty OLE compound file (v3, 512-byte sectors): header, one FAT sector, one directory sector."""
    header = bytearray(512)
    header[0:8] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
    struct.pack_into("<HHHHH", header, 24, 0x3E, 3, 0xFFFE, 9, 6)
    struct.pack_into("<IIIIIIIII", header, 40, 0, 1, 1, 0, 4096, 0xFFFFFFFE, 0, 0xFFFFFFFE, 0)
    struct.pack_into("<I", header, 76, 0)  # DIFAT[0]: the FAT is sector 0
    header[80:512] = b"\xff" * 432
    fat = struct.pack("<II", 0xFFFFFFFD, 0xFFFFFFFE) + b"\xff" * 504
    root = bytearray(128)
    name = "Root Entry".encode("utf-16-le") + b"\0\0"
    root[: len(name)] = name
    struct.pack_into("<HBBIII", root, 64, len(name), 5, 1, 0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF)
    struct.pack_into("<IQ", root, 116, 0xFFFFFFFE, 0)
    unused = bytearray(128)
    struct.pack_into("<III", unused, 68, 0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF)
    return bytes(header) + fat + bytes(root) + bytes(unused) * 3


def outlook_msg(subject: str, sender_name: str, sender_smtp: str, attachments: dict[str, bytes],
                delivered_filetime: int = 0) -> bytes:
    """An Outlook .msg ([MS-OXMSG]) with Unicode string properties and one storage per attachment."""
    from pyopenvba.cfb import CFB

    def utf16(text: str) -> bytes:
        return text.encode("utf-16-le")

    cfb = CFB.from_bytes(empty_cfb())
    cfb.add_stream_at([], "__substg1.0_0037001F", utf16(subject))
    cfb.add_stream_at([], "__substg1.0_0C1A001F", utf16(sender_name))
    cfb.add_stream_at([], "__substg1.0_5D01001F", utf16(sender_smtp))
    cfb.add_stream_at([], "__substg1.0_1035001F", utf16(f"<{subject}@outlook.test>"))
    props = bytes(32) + struct.pack("<IIQ", (0x0E06 << 16) | 0x0040, 6, delivered_filetime)
    cfb.add_stream_at([], "__properties_version1.0", props)
    for i, (name, data) in enumerate(attachments.items()):
        storage = f"__attach_version1.0_#{i:08X}"
        cfb.add_substorage_at([], storage)
        cfb.add_stream_at([storage], "__substg1.0_3707001F", utf16(name))
        cfb.add_stream_at([storage], "__substg1.0_37010102", data)
    return cfb.to_bytes()


def big_eml(path: Path, megabytes: int) -> None:
    """An .eml carrying a `megabytes` MB attachment, written in 1 MB steps (never whole in memory)."""
    line = b64_lines(bytes(range(256)) * 3)  # 768 bytes -> 1024 base64 characters + CRLFs
    with open(path, "wb") as fh:
        fh.write(message("超大附件测试", b"big@qq.com", [], msgid="big@test", date=_date(20), close=False))
        fh.write(b"--==brandkit-test==\r\nContent-Type: application/octet-stream\r\n"
                 b"Content-Disposition: attachment; filename=\"big.xlsx\"\r\nContent-Transfer-Encoding: base64\r\n\r\n")
        for _ in range(megabytes * 1366):
            fh.write(line)
        fh.write(b"--==brandkit-test==--\r\n")


def hostile_cases() -> list[Case]:
    """Hostile mail; each one must be reported and must not stop the others."""
    good = form_xlsx("好支部")
    kept = form_xlsx("炸弹旁边的支部")
    traversal = form_xlsx("穿越")
    attached = form_xlsx("穿越附件")
    cases = [
        Case("zip_bomb", message("zip_bomb", b"a@qq.com", [
            part(b'attachment; filename="bomb.zip"', zip_bomb("表.xlsx", 300)),
            part(b'attachment; filename="small-bomb.zip"',
                 _zip_from([("零.xlsx".encode("gbk"), _deflate(bytes(2**20) for _ in range(5))),
                            ("好.xlsx".encode("gbk"), _deflate([kept]))], 0))], msgid="bomb@test", date=_date(21)),
             {"好.xlsx": kept}, ["bomb.zip", "small-bomb.zip/零.xlsx"]),
        Case("traversal", message("traversal", b"b@qq.com", [
            part(b'attachment; filename="../../outside.xlsx"', attached),
            part(b'attachment; filename="t.zip"', raw_zip({"../../../etc/evil.xlsx": traversal}))],
            msgid="trav@test", date=_date(22)),
             {"outside.xlsx": attached, "evil.xlsx": traversal}),
        Case("truncated", message("truncated", b"c@qq.com", [
            part(b'attachment; filename="ok.xlsx"', good),
            part(b'attachment; filename="cut.xlsx"', form_xlsx("被截断"))[:700]], msgid="cut@test",
            date=_date(23), close=False), {"ok.xlsx": good}, ["cut.xlsx"]),
        Case("invalid_header_bytes",
             b"From: \xff\xfe\x80 <bad@qq.com>\r\nSubject: \xfe\xff\x00\x81bad\r\nMessage-ID: <bad@test>\r\n"
             b"Date: not a date\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n"
             b"--b\r\n" + part(b'attachment; filename="\xff\xfe\x81\x30.xlsx"', form_xlsx("坏头")) + b"\r\n--b--\r\n",
             {}),
        Case("not_mail", b"\x00\x01binary garbage, not a message\xff" * 10, {}),
    ]
    return cases


def rar4(members: dict[bytes, bytes]) -> bytes:
    """A RAR 4 archive of stored (uncompressed) members, names as raw bytes (the OEM code page, as
    WinRAR writes names without its Unicode flag). Written by hand: no free tool creates RAR."""

    def block(kind: int, flags: int, body: bytes) -> bytes:
        head = struct.pack("<BHH", kind, flags, 7 + len(body)) + body
        return struct.pack("<H", zlib.crc32(head) & 0xFFFF) + head

    out = b"Rar!\x1a\x07\x00" + block(0x73, 0, bytes(6))
    for name, data in members.items():
        body = struct.pack("<IIBIIBBHI", len(data), len(data), 3, zlib.crc32(data), 0x21000000, 20, 0x30,
                           len(name), 0o100644 << 16) + name
        out += block(0x74, 0x8000, body) + data
    return out + block(0x7B, 0x4000, b"")
