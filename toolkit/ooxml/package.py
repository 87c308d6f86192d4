"""The OPC package: parts by name, relationships, content types, and writing the result back with
every untouched member copied byte for byte."""

from __future__ import annotations

import posixpath
import re
from typing import TYPE_CHECKING

from . import zipio
from .errors import PackageError
from .xmltools import CT, PKG_RELS, REL_TYPE, parse, serialize

if TYPE_CHECKING:
    import zipfile

    from lxml import etree

OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_RID = re.compile(r"rId(\d+)$")


def rels_name(part: str) -> str:
    head, tail = posixpath.split(part)
    return posixpath.join(head, "_rels", tail + ".rels")


def resolve(source_part: str, target: str) -> str:
    """Absolute part name of a relationship target relative to `source_part`."""
    if target.startswith("/"):
        return target[1:]
    return posixpath.normpath(posixpath.join(posixpath.dirname(source_part), target))


def relative(source_part: str, part: str) -> str:
    return posixpath.relpath(part, posixpath.dirname(source_part) or ".")


class Rels:
    """One .rels part, parsed; `add` returns a fresh unique rId."""

    def __init__(self, pkg: Package, source_part: str):
        from lxml import etree

        self.pkg, self.source, self.name = pkg, source_part, rels_name(source_part)
        data = pkg.read(self.name)
        if data is None:
            self.prolog, self.root = b"", etree.Element(f"{{{PKG_RELS}}}Relationships", nsmap={None: PKG_RELS})
        else:
            self.prolog, self.root = parse(data, self.name)
        self._index: dict[tuple[str, str], str] | None = None  # (kind, target part) -> rId, built on demand
        self._used: set[str] = set()
        self._next = 1

    def _lookup(self) -> dict[tuple[str, str], str]:
        if self._index is None:
            self._index = {}
            for el in self.items():
                if el.get("TargetMode") != "External":
                    key = (el.get("Type", "").rsplit("/", 1)[-1], resolve(self.source, el.get("Target", "")))
                    self._index.setdefault(key, el.get("Id"))
            self._used = {el.get("Id") for el in self.items()}
            self._next = max([int(m.group(1)) for i in self._used if (m := _RID.match(i or ""))] + [0]) + 1
        return self._index

    def items(self) -> list[etree._Element]:
        return [el for el in self.root if el.get("Id")]

    def by_type(self, kind: str) -> list[tuple[str, str]]:
        """[(rId, absolute target part)] of internal relationships whose type ends with /kind."""
        return [(el.get("Id"), resolve(self.source, el.get("Target", ""))) for el in self.items()
                if el.get("Type", "").rsplit("/", 1)[-1] == kind and el.get("TargetMode") != "External"]

    def target(self, rid: str) -> str | None:
        for el in self.items():
            if el.get("Id") == rid:
                return resolve(self.source, el.get("Target", ""))
        return None

    def find(self, kind: str, part: str) -> str | None:
        return self._lookup().get((kind, part))

    def add(self, kind: str, part: str) -> str:
        from lxml import etree

        existing = self.find(kind, part)
        if existing:
            return existing
        used, n = self._used, self._next
        while f"rId{n}" in used:
            n += 1
        self._next = n + 1
        etree.SubElement(self.root, f"{{{PKG_RELS}}}Relationship", Id=f"rId{n}",
                         Type=REL_TYPE + kind, Target=relative(self.source, part))
        self.pkg.dirty_rels[self.name] = self
        self._lookup()[(kind, part)] = f"rId{n}"
        used.add(f"rId{n}")
        return f"rId{n}"

    def remove(self, rid: str) -> None:
        for el in self.items():
            if el.get("Id") == rid:
                self.root.remove(el)
                self.pkg.dirty_rels[self.name] = self
        self._index = None

    def to_bytes(self) -> bytes:
        return serialize(self.prolog, self.root)


class Package:
    """Parts of an .xlsx/.xlsm in memory. Reads are lazy; only written parts are re-encoded."""

    def __init__(self, src: bytes):
        if src[:8] == OLE2_MAGIC:
            raise PackageError(_ole2_message(src))
        if src[:2] != b"PK":
            raise PackageError("文件不是 .xlsx/.xlsm 工作簿（不是 zip 格式）：请用 Excel 或 WPS 另存为 .xlsx 后再试")
        self.src = src
        self.members = zipio.read_members(src)
        self.index = {m.name: m for m in self.members}
        self.written: dict[str, bytes | zipio.Deflated] = {}  # a big part is kept compressed
        self.deleted: set[str] = set()
        self.dirty_rels: dict[str, Rels] = {}
        self._rels: dict[str, Rels] = {}
        self._ct: tuple[bytes, etree._Element] | None = None
        self._ct_dirty = False
        self._zf: zipfile.ZipFile | None = None

    # parts -------------------------------------------------------------------------------------------
    def exists(self, name: str) -> bool:
        return name not in self.deleted and (name in self.written or name in self.index)

    def read(self, name: str) -> bytes | None:
        if name in self.deleted:
            return None
        if name in self.written:
            data = self.written[name]
            return data.data() if isinstance(data, zipio.Deflated) else data
        if name not in self.index:
            return None
        if self._zf is None:
            import io
            import zipfile

            self._zf = zipfile.ZipFile(io.BytesIO(self.src))
        return self._zf.read(self.index[name].info)

    def write(self, name: str, data: bytes | zipio.Deflated) -> None:
        self.deleted.discard(name)
        self.written[name] = data

    def delete(self, name: str) -> None:
        self.written.pop(name, None)
        self.deleted.add(name)

    def names(self) -> list[str]:
        return [n for n in list(self.index) + list(self.written) if self.exists(n)]

    def unique_name(self, pattern: str) -> str:
        """First free name for a pattern like 'xl/worksheets/sheet{}.xml' (case-insensitive, as zip
        readers on Windows compare)."""
        taken = {n.lower() for n in self.names()}
        n = 1
        while pattern.format(n).lower() in taken:
            n += 1
        return pattern.format(n)

    def rels(self, part: str) -> Rels:
        if part not in self._rels:
            self._rels[part] = Rels(self, part)
        return self._rels[part]

    # content types -----------------------------------------------------------------------------------
    def content_types(self) -> etree._Element:
        if self._ct is None:
            data = self.read("[Content_Types].xml")
            if data is None:
                raise PackageError("工作簿缺少 [Content_Types].xml：文件已损坏，请用 Excel 或 WPS 打开后另存再试")
            self._ct = parse(data, "[Content_Types].xml")
        return self._ct[1]

    def content_type(self, part: str) -> str | None:
        root = self.content_types()
        for el in root:
            if el.get("PartName", "").lstrip("/").lower() == part.lower():
                return el.get("ContentType")
        ext = part.rsplit(".", 1)[-1].lower()
        for el in root:
            if (el.get("Extension") or "").lower() == ext:
                return el.get("ContentType")
        return None

    def set_override(self, part: str, content_type: str | None) -> None:
        """Add (or with None remove) the Override for `part`."""
        from lxml import etree

        root = self.content_types()
        for el in list(root):
            if el.get("PartName", "").lstrip("/").lower() == part.lower():
                root.remove(el)
        if content_type:
            etree.SubElement(root, f"{{{CT}}}Override", PartName="/" + part, ContentType=content_type)
        self._ct_dirty = True

    def ensure_default(self, ext: str, content_type: str) -> None:
        from lxml import etree

        root = self.content_types()
        if any((el.get("Extension") or "").lower() == ext for el in root):
            return
        el = etree.Element(f"{{{CT}}}Default", Extension=ext, ContentType=content_type)
        defaults = [i for i, e in enumerate(root) if e.get("Extension") is not None]
        root.insert(defaults[-1] + 1 if defaults else 0, el)
        self._ct_dirty = True

    # output ------------------------------------------------------------------------------------------
    def to_bytes(self) -> bytes:
        for rels in self.dirty_rels.values():
            self.write(rels.name, rels.to_bytes())
        if self._ct is not None and self._ct_dirty:
            self.write("[Content_Types].xml", serialize(*self._ct))
        stamp = self.index["[Content_Types].xml"].info.date_time if "[Content_Types].xml" in self.index \
            else (1980, 1, 1, 0, 0, 0)
        records = []
        for m in self.members:
            if m.name in self.deleted:
                continue
            if m.name in self.written:
                records.append(zipio.fresh_records(m.name, self.written[m.name], m.info, stamp))
            else:
                records.append((m.local, m.central))
        for name, data in self.written.items():
            if name not in self.index:
                records.append(zipio.fresh_records(name, data, None, stamp))
        return zipio.write_zip(records)


def _ole2_message(src: bytes) -> str:
    import io

    import olefile

    try:
        ole = olefile.OleFileIO(io.BytesIO(src))
        encrypted = ole.exists("EncryptionInfo") or ole.exists("EncryptedPackage")
    except OSError:
        encrypted = False
    if encrypted:
        return "工作簿设置了打开密码（已加密），brandkit 无法修改：请在 Excel/WPS 中去掉密码（文件→信息→保护工作簿）后再试"
    return "这是旧版 .xls/.et 格式的工作簿，brandkit 只能修改 .xlsx/.xlsm：请用 Excel 或 WPS 另存为 .xlsx 后再试"
