"""What an attachment is, judged from its bytes (the name is only a hint for plain text).

Intake keeps every file (forms, pictures, and the reports, PDF and text files a stage asks for), unpacks
archives and skips only empty files; the readers sniff again in detail, so this only needs to tell
archives apart and give the saved file a fitting suffix.
"""

from __future__ import annotations

import io
import re
import zipfile

ARCHIVE = {"zip", "rar", "7z"}
UNSAFE = {"exe"}  # programs: never saved, whatever the name says

# Suffixes a saved file may keep for each kind; the first is added when the name has none of them.
SUFFIXES = {
    "xlsx": (".xlsx", ".xltx"), "xlsm": (".xlsm", ".xltm"), "xlsb": (".xlsb",), "xls": (".xls", ".et", ".xlt", ".ett"),
    "encrypted": (".xlsx", ".xlsm", ".xls", ".et"), "ods": (".ods",),
    "csv": (".csv", ".tsv", ".txt", ".xls", ".et"), "html": (".xls", ".htm", ".html", ".xml", ".et"),  # also SpreadsheetML 2003
    "docx": (".docx", ".docm"), "doc": (".doc", ".wps"),
    "png": (".png",), "jpeg": (".jpg", ".jpeg"), "gif": (".gif",), "bmp": (".bmp",), "webp": (".webp",),
}

_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_TEXT_TABLE_SUFFIXES = (".csv", ".tsv", ".xls", ".et")
_HTML_TABLE = re.compile(rb"<table|urn:schemas-microsoft-com:office:(spreadsheet|excel)", re.I)


def _zip_kind(data: bytes) -> str:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            names = set(zf.namelist())
            if "mimetype" in names and zf.read("mimetype").startswith(b"application/vnd.oasis.opendocument.spreadsheet"):
                return "ods"
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError):
        return "corrupt_zip"
    if "xl/workbook.bin" in names:
        return "xlsb"
    if "xl/workbook.xml" in names or any(n.startswith("xl/") for n in names):
        return "xlsm" if "xl/vbaProject.bin" in names else "xlsx"
    if "word/document.xml" in names:
        return "docx"
    if "ppt/presentation.xml" in names:
        return "pptx"
    return "zip"


def _ole_kind(data: bytes) -> str:
    import olefile

    try:
        with olefile.OleFileIO(io.BytesIO(data)) as ole:
            streams = {"/".join(path) for path in ole.listdir(streams=True, storages=True)}
    except (OSError, ValueError, IndexError, TypeError):
        return "corrupt_ole"
    if streams & {"Workbook", "Book", "WORKBOOK", "BOOK"}:
        return "xls"
    if "EncryptedPackage" in streams:
        return "encrypted"
    if "WordDocument" in streams:
        return "doc"
    if "PowerPoint Document" in streams:
        return "ppt"
    if any(s.startswith("__substg1.0_") for s in streams):
        return "msg"
    return "ole"


def _looks_like_text(data: bytes) -> bool:
    head = data[:8192]
    if b"\x00" in head.lstrip(b"\xff\xfe"):
        return False
    for codec in ("utf-8", "gb18030"):
        try:
            head.decode(codec)
            return True
        except UnicodeDecodeError as exc:
            if exc.start >= len(head) - 4:  # a character cut at the sample's end
                return True
    return False


def sniff(data: bytes, name: str = "") -> str:
    """Kind of a file from its bytes: a key of SUFFIXES, an ARCHIVE kind, or another short label."""
    if data.startswith(b"PK\x03\x04") or data.startswith(b"PK\x05\x06"):
        return _zip_kind(data)
    if data.startswith(_OLE):
        return _ole_kind(data)
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if data.startswith(b"BM") and len(data) > 26:
        return "bmp"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    if data.startswith(b"Rar!\x1a\x07"):
        return "rar"
    if data.startswith(b"7z\xbc\xaf\x27\x1c"):
        return "7z"
    if data.startswith(b"%PDF"):
        return "pdf"
    if data.startswith(b"MZ") and not _looks_like_text(data):  # .exe/.dll/.scr, often renamed to pass as a form
        return "exe"
    if not data.strip():
        return "empty"
    if _looks_like_text(data):
        if _HTML_TABLE.search(data[:65536]):
            return "html"
        if name.lower().endswith(_TEXT_TABLE_SUFFIXES):
            return "csv"
        return "text"
    return "binary"


def missing_suffix(name: str, kind: str) -> str:
    """The suffix `name` needs to match its kind ("" when it has one: a .dat that is really an .xlsx gets
    ".xlsx", to become x.dat.xlsx)."""
    allowed = SUFFIXES.get(kind)
    return "" if not allowed or name.lower().endswith(allowed) else allowed[0]


KIND_LABELS = {
    "docx": "Word 文档", "doc": "Word 文档", "pptx": "PowerPoint 演示文稿", "ppt": "PowerPoint 演示文稿",
    "pdf": "PDF 文件", "text": "纯文本文件", "msg": "Outlook 邮件", "empty": "空文件",
    "corrupt_zip": "损坏的 zip/Office 文件", "corrupt_ole": "损坏的 OLE2（.xls/.doc）文件",
    "exe": "Windows 可执行程序（.exe/.dll）",
}


def skip_reason(kind: str) -> str:
    """Chinese reason for not keeping a file of this kind (an empty file, a program)."""
    label = KIND_LABELS.get(kind, "无法识别的文件")
    if kind in UNSAFE:
        return (f"文件内容是 {label}，不是表格或材料（与文件名不符），为安全起见未收取，请勿打开；"
                "请与对方核实，请对方重新发送申报材料")
    return f"{label}，没有内容，未收取；请对方确认附件后重新发送"
