"""PicturePlacement: a picture inside a cell, on the sheet's drawing layer.

The drawing part is edited as text: new anchors are appended before the closing tag and existing
anchors keep their bytes. A picture brandkit placed earlier in the same cell (cNvPr name starting with
"brandkit:") is removed first, with its media when nothing else uses it, so re-merging does not stack.
"""

from __future__ import annotations

import hashlib
import posixpath
import re

from toolkit.core.changeset import PicturePlacement

from .context import Context
from .errors import PackageError
from .package import Package
from .sheet import ORDER, Sheet
from .xmltools import MAIN, XDR, A, R, esc, insert_in_order, ns_prefixes

DRAWING_CT = "application/vnd.openxmlformats-officedocument.drawing+xml"
IMAGE_CT = {"png": "image/png", "jpeg": "image/jpeg"}
EMU_PER_PX = 9525
MARK = "brandkit:"
PID = "\x00pid\x00"  # placeholder for a new anchor's cNvPr id
_ANCHOR = re.compile(r"<(?:\w+:)?(twoCellAnchor|oneCellAnchor|absoluteAnchor)\b.*?</(?:\w+:)?\1>", re.S)
_FROM = re.compile(r"<(?:\w+:)?from>\s*<(?:\w+:)?col>(\d+)</(?:\w+:)?col>.*?<(?:\w+:)?row>(\d+)</", re.S)
_CNVPR_ID = re.compile(r"<(?:\w+:)?cNvPr\b[^>]*?\bid=\"(\d+)\"")
_EMBED = re.compile(r'\b\w+:(?:embed|link)="([^"]+)"')
_NEW_DRAWING = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n'
                f'<xdr:wsDr xmlns:xdr="{XDR}" xmlns:a="{A}"></xdr:wsDr>')


def col_px(width: float) -> int:
    """Column width in characters (as stored) -> pixels, for the default 7-px digit of Calibri 11."""
    return int((256 * width + int(128 / 7)) / 256 * 7)


class Drawing:
    def __init__(self, pkg: Package, part: str):
        self.pkg, self.part = pkg, part
        self.text = (pkg.read(part) or _NEW_DRAWING.encode()).decode("utf-8")
        self.rels = pkg.rels(part)
        m = re.search(r"<(?![?!])[^>]*>", self.text)
        if m is None:
            raise PackageError(f"工作簿部件 {part} 不是有效的 XML：请用 Excel 或 WPS 打开后另存再试")
        head = m.group(0)
        declared = ns_prefixes(head)
        self.decls = "".join(f' xmlns:{p}="{uri}"' for p, uri in (("xdr", XDR), ("a", A), ("r", R))
                             if declared.get(uri) != p)
        self.dropped: set[str] = set()  # rIds whose anchors were removed
        self.replaced: set[tuple[int, int]] = set()  # (row, col) whose earlier brandkit picture goes
        self.new: list[str] = []  # anchors added by this apply (ids filled in at save), appended once

    def remove_ours(self, row: int, col: int) -> None:
        """Mark the cell; the existing text is scanned once, at save (1000 logos, one pass)."""
        self.replaced.add((row, col))

    def add(self, anchor: str) -> None:
        self.new.append(anchor)

    def _drop_replaced(self) -> None:
        def drop(m: re.Match) -> str:
            f = _FROM.search(m.group(0))
            if f and (int(f.group(2)), int(f.group(1))) in self.replaced and f'name="{MARK}' in m.group(0):
                self.dropped.update(_EMBED.findall(m.group(0)))
                return ""
            return m.group(0)

        if self.replaced:
            self.text = _ANCHOR.sub(drop, self.text)
        if self.new:  # ids after the removal, so re-placing the same logo gives the same bytes
            first = max([int(i) for i in _CNVPR_ID.findall(self.text)] + [1]) + 1
            anchors = "".join(a.replace(PID, str(first + n)) for n, a in enumerate(self.new))
            end = self.text.rindex("</")
            self.text = self.text[:end] + anchors + self.text[end:]

    def save(self) -> None:
        self._drop_replaced()
        for rid in self.dropped:
            if f'"{rid}"' not in self.text:
                target = self.rels.target(rid)
                self.rels.remove(rid)
                if target and posixpath.basename(target).startswith("brandkit_") and not _used(self.pkg, target):
                    self.pkg.delete(target)
        self.pkg.write(self.part, self.text.encode("utf-8"))


def _used(pkg: Package, part: str) -> bool:
    """Whether any relationship in the package still targets `part`."""
    for name in pkg.names():
        if name.endswith(".rels"):
            head, _, tail = name.rpartition("_rels/")
            rels = pkg.rels(head + tail.removesuffix(".rels"))
            if any(rels.target(el.get("Id")) == part for el in rels.items()):
                return True
    return False


def _drawing_for(ctx: Context, sheet: Sheet) -> Drawing:
    rels = ctx.pkg.rels(sheet.part)
    found = [part for _, part in rels.by_type("drawing") if ctx.pkg.exists(part)]
    if found:
        part = found[0]
    else:
        from lxml import etree

        part = ctx.pkg.unique_name(posixpath.join(posixpath.dirname(posixpath.dirname(sheet.part)),
                                                  "drawings", "drawing{}.xml"))
        ctx.pkg.write(part, _NEW_DRAWING.encode())
        ctx.pkg.set_override(part, DRAWING_CT)
        rid = rels.add("drawing", part)
        nsmap = None if R in sheet.root.nsmap.values() else {"r": R}
        el = etree.Element(f"{{{MAIN}}}drawing", nsmap=nsmap)
        el.set(f"{{{R}}}id", rid)
        old = sheet.find("drawing")
        if old is not None:  # a dangling <drawing> whose part is missing
            sheet.root.remove(old)
        insert_in_order(sheet.root, el, ORDER)
    if part not in ctx.drawings:
        ctx.drawings[part] = Drawing(ctx.pkg, part)
    return ctx.drawings[part]


def _span(start: int, size_px: int, size_of) -> tuple[int, int]:
    """(index, offset px) of the cell where a run of `size_px` pixels starting at `start` ends."""
    i, left = start, size_px
    while left >= (px := size_of(i)) and px > 0:
        left -= px
        i += 1
    return i, left


def place_picture(ctx: Context, op: PicturePlacement) -> None:
    sheet = ctx.sheet(op.sheet)
    ext = "jpeg" if op.format.lower() in ("jpeg", "jpg") else "png"
    media = posixpath.join(posixpath.dirname(ctx.wb.part), "media",
                           f"brandkit_{hashlib.sha1(op.data).hexdigest()[:16]}.{ext}")
    if not ctx.pkg.exists(media):
        ctx.pkg.write(media, op.data)
    ctx.pkg.ensure_default(ext, IMAGE_CT[ext])
    drawing = _drawing_for(ctx, sheet)
    drawing.remove_ours(op.row, op.col)
    rid = drawing.rels.add("image", media)
    w, h = max(op.width_px, 1), max(op.height_px, 1)
    to_col, col_off = _span(op.col, w, lambda c: col_px(sheet.col_width(c + 1)))
    to_row, row_off = _span(op.row, h, lambda r: round(sheet.row_height(r + 1) * 96 / 72))
    name = esc((op.name if op.name.startswith(MARK) else MARK + (op.name or "picture")), quote=True)
    descr = esc(op.alt, quote=True) if op.alt else name
    pid = PID
    drawing.add(
        f'<xdr:twoCellAnchor{drawing.decls} editAs="oneCell">'
        f"<xdr:from><xdr:col>{op.col}</xdr:col><xdr:colOff>0</xdr:colOff>"
        f"<xdr:row>{op.row}</xdr:row><xdr:rowOff>0</xdr:rowOff></xdr:from>"
        f"<xdr:to><xdr:col>{to_col}</xdr:col><xdr:colOff>{col_off * EMU_PER_PX}</xdr:colOff>"
        f"<xdr:row>{to_row}</xdr:row><xdr:rowOff>{row_off * EMU_PER_PX}</xdr:rowOff></xdr:to>"
        f'<xdr:pic><xdr:nvPicPr><xdr:cNvPr id="{pid}" name="{name}" descr="{descr}"/>'
        f'<xdr:cNvPicPr><a:picLocks noChangeAspect="1"/></xdr:cNvPicPr></xdr:nvPicPr>'
        f'<xdr:blipFill><a:blip r:embed="{rid}"/><a:stretch><a:fillRect/></a:stretch></xdr:blipFill>'
        f'<xdr:spPr><a:xfrm><a:off x="0" y="0"/><a:ext cx="{w * EMU_PER_PX}" cy="{h * EMU_PER_PX}"/></a:xfrm>'
        f'<a:prstGeom prst="rect"><a:avLst/></a:prstGeom></xdr:spPr></xdr:pic>'
        f"<xdr:clientData/></xdr:twoCellAnchor>")

