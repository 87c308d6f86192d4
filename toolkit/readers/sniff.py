"""Tell what a file is from its bytes, never its name.

Kinds: xlsx (also xlsm), xlsb, xls (BIFF; WPS .et too), ods, csv, html (HTML saved as .xls by many
Chinese systems), xml2003 (SpreadsheetML 2003), and the Word forms: docx, doc (Word 97-2003 and WPS
文字 .wps, both OLE2 with a WordDocument stream), wps (Microsoft Works), rtf; the last three are read
through LibreOffice. Everything else raises Unreadable with a reason.

Word files carrying macros (.docm, a .doc with a VBA storage) are refused outright: a form never needs
one, the office would open the original in Word to print and sign it, and refusing keeps such a file
from ever reaching an office suite (LibreOffice included) on this machine.
"""

from __future__ import annotations

import io
import zipfile

from toolkit.readers.errors import Unreadable

WORD_NAMES = {"docx": "Word 文档（.docx）", "doc": "Word 97-2003 或 WPS 文字文档（.doc/.wps）",
              "wps": "Works 文字处理文档（.wps）", "rtf": "RTF 文档（.rtf）"}
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")
_NOT_SHEETS = {
    b"%PDF": "PDF 文件", b"\x89PNG": "图片", b"\xff\xd8\xff": "图片", b"GIF8": "图片", b"BM": "图片",
    b"Rar!": "RAR 压缩包", b"7z\xbc\xaf": "7z 压缩包", b"\x1f\x8b": "gzip 压缩包",
}


def sniff(data: bytes, package: zipfile.ZipFile | None = None, *, roster: bool = False) -> str:
    """`package`: the file's zip, when the caller has opened it already (it is not opened again).
    `roster`: the file is a list (支部名单), not a form: text is a CSV when any two of its first lines
    are separated (a title line above the header, semicolons as some exports write them)."""
    blank = b"\x00 \t\r\n"
    if not data[:4096].strip(blank) and not data.strip(blank):  # the head first: no 1 MB copy per file
        raise Unreadable("empty")
    if data.startswith(ZIP_MAGICS):
        return _sniff_zip(data, package)
    if data.startswith(OLE_MAGIC):
        return _sniff_ole(data)
    if data.startswith(b"{\\rtf"):
        return "rtf"
    for magic, what in _NOT_SHEETS.items():
        if data.startswith(magic):
            raise Unreadable("not_spreadsheet", what=what)
    return _sniff_text(data, roster)


def _sniff_zip(data: bytes, package: zipfile.ZipFile | None) -> str:
    try:
        zf = package if package is not None else zipfile.ZipFile(io.BytesIO(data))
        names = set(zf.namelist())
    except (zipfile.BadZipFile, ValueError, EOFError, OSError):
        raise Unreadable("corrupt") from None
    if "xl/workbook.xml" in names or any(n.lower() == "xl/workbook.xml" for n in names):
        return "xlsx"
    if "xl/workbook.bin" in names:
        return "xlsb"
    if "content.xml" in names or "mimetype" in names:
        mimetype = zf.read("mimetype")[:100] if "mimetype" in names else b""
        manifest = zf.read("META-INF/manifest.xml") if "META-INF/manifest.xml" in names else b""
        if b"encryption-data" in manifest:
            raise Unreadable("encrypted")
        if not mimetype or b"spreadsheet" in mimetype:
            return "ods"
        raise Unreadable("not_spreadsheet", what="ODF 文本或演示文档")
    if "word/document.xml" in names:
        if any(n.lower().rsplit("/", 1)[-1] in ("vbaproject.bin", "vbadata.xml") for n in names):
            raise Unreadable("macro", what="启用宏的 Word 文档（.docm）")
        return "docx"
    if "ppt/presentation.xml" in names:
        raise Unreadable("not_spreadsheet", what="PowerPoint 文档")
    raise Unreadable("not_spreadsheet", what="zip 压缩包")


def _sniff_ole(data: bytes) -> str:
    import olefile

    try:
        with olefile.OleFileIO(io.BytesIO(data)) as ole:
            streams = {"/".join(s) for s in ole.listdir()}
    except Exception:  # olefile raises many types on garbage
        raise Unreadable("corrupt") from None
    if "EncryptionInfo" in streams or "EncryptedPackage" in streams:
        raise Unreadable("encrypted")
    if "Workbook" in streams or "Book" in streams:
        if _ole_encrypted(data):
            raise Unreadable("encrypted")
        return "xls"
    if "WordDocument" in streams:
        if any(s.startswith(("Macros/", "_VBA_PROJECT")) for s in streams):
            raise Unreadable("macro", what="含宏的 Word 97-2003 文档（.doc）")
        if _ole_encrypted(data):
            raise Unreadable("encrypted")
        return "doc"
    if "CONTENTS" in streams:  # Microsoft Works word processor (.wps)
        return "wps"
    raise Unreadable("not_spreadsheet", what="OLE 复合文档")


def _ole_encrypted(data: bytes) -> bool:
    import msoffcrypto

    try:
        return bool(msoffcrypto.OfficeFile(io.BytesIO(data)).is_encrypted())
    except Exception:  # a damaged stream: let the value reader say it is corrupt
        return False


def decode_text(data: bytes) -> str:
    """CSV/HTML text from a Chinese Windows machine: UTF-8 (with or without BOM), else GB18030."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError:
        raise Unreadable("not_spreadsheet", what="无法识别编码的二进制文件") from None


def _sniff_text(data: bytes, roster: bool = False) -> str:
    text = decode_text(data[:65536].rsplit(b"\n", 1)[0] if len(data) > 65536 else data)
    head = text.lstrip("\ufeff \t\r\n")[:4096].lower()
    if "urn:schemas-microsoft-com:office:spreadsheet" in head and "<workbook" in head:
        return "xml2003"
    if head.startswith("<") and ("<table" in text.lower() or "<html" in head):
        return "html"
    if head.startswith("<"):
        raise Unreadable("not_spreadsheet", what="XML/HTML 文件（其中没有表格）")
    if "\x00" in text:
        raise Unreadable("not_spreadsheet", what="二进制文件")
    lines = [ln for ln in text.splitlines() if ln.strip()][:20]
    if lines and all(any(sep in ln for sep in ",\t，") for ln in lines[: min(len(lines), 3)]):
        return "csv"
    if roster and sum(any(sep in ln for sep in ",\t，;") for ln in lines) >= 2:
        return "csv"
    raise Unreadable("not_spreadsheet", what="文本文件")
