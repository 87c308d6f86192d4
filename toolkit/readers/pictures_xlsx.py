"""Pictures in .xlsx/.xlsm packages: drawing layer, WPS cell images and Excel "Place in Cell" images;
and the drawing layer of .xlsb packages, whose workbook and sheet parts are binary but whose drawings
are the same DrawingML parts.

Read straight from the zip (openpyxl sees only the drawing layer). Every part is untrusted: XML is parsed
without DTDs, entities or network; relationship targets are resolved inside the package only; a missing or
malformed part yields fewer pictures, never an exception. The XML helpers here are shared with the
.ods reader.
"""

from __future__ import annotations

import functools
import posixpath
import re
import zipfile
from collections.abc import Iterator

from lxml import etree

from toolkit.core.model import Picture, parse_a1
from toolkit.readers import xmlsafe
from toolkit.readers.errors import Unreadable
from toolkit.readers.pictures import MediaBudget, linked_picture, make_picture
from toolkit.readers.zipparts import ZIP_ERRORS, package_zip, read_member

MAX_XML_BYTES = 32 * 1024 * 1024  # a drawing/metadata part parsed whole; sheets are streamed instead
_DISPIMG = re.compile(r'DISPIMG\(\s*"([^"]+)"')
_REL_LOCAL_IMAGE = "_rvRel:LocalImageIdentifier"


def parse_xml(data: bytes | None) -> etree._Element | None:
    """Root of a small XML part; None if malformed or if it carries a DTD (no OOXML/ODF part has one)."""
    if not data:
        return None
    try:
        root = xmlsafe.parse_xml(data)
    except Unreadable:
        return None
    return None if root.getroottree().docinfo.doctype else root


def iter_xml(zf: zipfile.ZipFile, name: str, events: tuple[str, ...], tag: tuple[str, ...]
             ) -> Iterator[tuple[str, etree._Element]]:
    """Stream a (possibly huge) part with the same parser settings as xmlsafe; stops quietly at the
    first error or at a DTD."""
    try:
        with zf.open(name) as fh:
            checked = False
            for event, el in etree.iterparse(fh, events=events, tag=tag, resolve_entities=False,
                                             no_network=True, huge_tree=False, load_dtd=False):
                if not checked:
                    if el.getroottree().docinfo.doctype:
                        return
                    checked = True
                yield event, el
    except (etree.XMLSyntaxError, *ZIP_ERRORS):
        return


def local(el: etree._Element) -> str:
    tag = el.tag
    return tag.rpartition("}")[2] if isinstance(tag, str) else ""  # "{namespace}name" or "name"


def attr(el: etree._Element, name: str) -> str | None:
    """Attribute by local name in any namespace (transitional and strict OOXML differ only there)."""
    for key, value in el.attrib.items():
        if key == name or key.endswith("}" + name):
            return value
    return None


def children(el: etree._Element, name: str) -> list[etree._Element]:
    return [c for c in el if local(c) == name]


def descendants(el: etree._Element, name: str) -> list[etree._Element]:
    return [c for c in el.iter() if local(c) == name]


def resolve(base_part: str, target: str) -> str | None:
    """Package path of a relationship target, or None when it points outside the package."""
    if target.startswith("/"):
        path = posixpath.normpath(target.lstrip("/"))
    else:
        path = posixpath.normpath(posixpath.join(posixpath.dirname(base_part), target))
    return None if path.startswith("..") or path in (".", "") else path


class _Package:
    """The zip plus per-file caches: rels, and media read once however many anchors share it."""

    def __init__(self, zf: zipfile.ZipFile, budget: MediaBudget) -> None:
        self.zf = zf
        self.budget = budget
        self._rels: dict[str, dict[str, tuple[str, str | None]]] = {}
        self._external: dict[str, dict[str, str]] = {}
        self._media: dict[str, bytes | None] = {}
        self.linked: list[Picture] = []  # pictures that only link to outside files, found on the way

    def xml(self, part: str | None) -> etree._Element | None:
        return parse_xml(read_member(self.zf, part, MAX_XML_BYTES)) if part else None

    def rels(self, part: str) -> dict[str, tuple[str, str | None]]:
        """{rId: (type, resolved target or None for external/outside targets)}."""
        if part not in self._rels:
            rels_part = posixpath.join(posixpath.dirname(part), "_rels", posixpath.basename(part) + ".rels")
            found: dict[str, tuple[str, str | None]] = {}
            self._external[part] = {}
            root = self.xml(rels_part)
            for rel in [] if root is None else children(root, "Relationship"):
                rid, target = rel.get("Id"), rel.get("Target")
                if not rid or not target:
                    continue
                external = (rel.get("TargetMode") or "").lower() == "external"
                found[rid] = (rel.get("Type") or "", None if external else resolve(part, target))
                if external:
                    self._external[part][rid] = target
            self._rels[part] = found
        return self._rels[part]

    def external(self, part: str, rid: str | None) -> str | None:
        """The target of an external relationship (a linked file or URL: never fetched), else None."""
        self.rels(part)
        return self._external[part].get(rid or "")

    def target(self, part: str, rid: str | None) -> str | None:
        return self.rels(part).get(rid or "", ("", None))[1]

    def media(self, path: str | None) -> bytes | None:
        if path is None:
            return None
        if path not in self._media:
            data = read_member(self.zf, path, self.budget.left)
            self._media[path] = data if data is not None and self.budget.take(len(data)) else None
        return self._media[path]


def find_xlsx_pictures(data: bytes, package: zipfile.ZipFile | None = None,
                       linked: list[Picture] | None = None) -> list[Picture]:
    """`linked` receives the drawing pictures that only link to outside files (never fetched)."""
    with package_zip(data, package) as zf:
        if zf is None:
            return []
        pkg = _Package(zf, MediaBudget())
        workbook = _workbook_part(pkg)
        cell_images = _wps_cell_images(pkg, workbook)
        rich_images = _rich_value_images(pkg, workbook)
        found: list[Picture] = []
        for name, part in _sheets(pkg, workbook):
            found.extend(_sheet_pictures(pkg, name, part, cell_images, rich_images))
        if linked is not None:
            linked.extend(pkg.linked)
        return found


def _workbook_part(pkg: _Package) -> str:
    for rtype, target in pkg.rels("").values():
        if rtype.endswith("/officeDocument") and target:
            return target
    return "xl/workbook.xml"


def _sheets(pkg: _Package, workbook: str) -> list[tuple[str, str]]:
    if workbook.endswith(".bin"):
        return _binary_sheets(pkg, workbook)
    root = pkg.xml(workbook)
    if root is None:
        return []
    out = []
    for sheet in descendants(root, "sheet"):
        part = pkg.target(workbook, attr(sheet, "id"))
        if part and sheet.get("name"):
            out.append((sheet.get("name"), part))
    return out


_BRT_BUNDLE_SH = 156  # BIFF12 (xlsb) workbook record naming a sheet and its relationship id


def _binary_sheets(pkg: _Package, workbook: str) -> list[tuple[str, str]]:
    """(name, part) of each sheet of an .xlsb, from its binary workbook part's BrtBundleSh records: the
    sheets are binary too, but their drawings are the same DrawingML parts as an .xlsx's, found through
    each sheet's rels (xl/worksheets/_rels/sheetN.bin.rels)."""
    data = read_member(pkg.zf, workbook, MAX_XML_BYTES)
    out: list[tuple[str, str]] = []
    for rtype, body in _records(data or b""):
        if rtype != _BRT_BUNDLE_SH:
            continue
        rid, at = _wide_string(body, 8)  # after hsState and iTabID
        name, _ = _wide_string(body, at)
        part = pkg.target(workbook, rid)
        if part and name:
            out.append((name, part))
    return out


def _records(data: bytes) -> Iterator[tuple[int, bytes]]:
    """BIFF12 records: a type of 1-2 and a size of 1-4 bytes, 7 bits each, the high bit saying another
    byte follows. Stops at the first record that runs past the end."""
    pos, end = 0, len(data)
    while pos < end:
        rtype = size = 0
        for shift in (0, 7):
            byte = data[pos] if pos < end else 0
            pos += 1
            rtype |= (byte & 0x7F) << shift
            if not byte & 0x80:
                break
        for shift in (0, 7, 14, 21):
            byte = data[pos] if pos < end else 0
            pos += 1
            size |= (byte & 0x7F) << shift
            if not byte & 0x80:
                break
        if pos + size > end:
            return
        yield rtype, data[pos:pos + size]
        pos += size


def _wide_string(body: bytes, at: int) -> tuple[str | None, int]:
    """An XLWideString (a 4-byte character count, then UTF-16LE) at `at`, and where the next field starts;
    None for a null or malformed one."""
    if at + 4 > len(body):
        return None, len(body)
    count = int.from_bytes(body[at:at + 4], "little")
    end = at + 4 + 2 * count
    if count == 0xFFFFFFFF or end > len(body):
        return None, at + 4
    return body[at + 4:end].decode("utf-16-le", "replace"), end


def _sheet_pictures(pkg: _Package, sheet: str, part: str, cell_images: dict[str, str | None],
                    rich_images: list[str | None]) -> list[Picture]:
    """The sheet's picture cells (only when the workbook has cell or rich images is the sheet streamed:
    a Python step per cell), then the pictures of the drawing its rels name."""
    found: list[Picture] = []
    if (cell_images or rich_images) and not part.endswith(".bin"):  # an .xlsb's sheet is binary
        row = -1
        for _, el in iter_xml(pkg.zf, part, ("end",), ("{*}row",)):
            r = el.get("r")
            row = int(r) - 1 if r and r.isdigit() else row + 1
            found.extend(_row_pictures(pkg, el, sheet, row, cell_images, rich_images))
            el.clear()
            while el.getprevious() is not None:
                del el.getparent()[0]
    for kind, drawing in pkg.rels(part).values():
        if kind.endswith("/drawing") and drawing:
            found.extend(_drawing_pictures(pkg, sheet, drawing, part))
    return found


def _row_pictures(pkg: _Package, row_el: etree._Element, sheet: str, row: int,
                  cell_images: dict[str, str | None], rich_images: list[str | None]) -> list[Picture]:
    out: list[Picture] = []
    last_ref, since = None, 0  # cells may omit r=: they follow the last cell that had one
    for cell in row_el:
        if not isinstance(cell.tag, str) or not (cell.tag.endswith("}c") or cell.tag == "c"):
            continue
        ref = cell.get("r")
        last_ref, since = (ref, 0) if ref else (last_ref, since + 1)
        vm = cell.get("vm") if rich_images else None
        image_id = _dispimg_id(cell) if cell_images else None
        if not vm and not image_id:
            continue
        try:
            ref_row, col = parse_a1(last_ref) if last_ref else (row, -1)
        except ValueError:
            ref_row, col = row, -1
        at_row, at_col = (ref_row if ref else row), col + since
        if vm and vm.isdigit() and 1 <= int(vm) <= len(rich_images):  # vm is 1-based
            data = pkg.media(rich_images[int(vm) - 1])
            if data is not None:
                out.append(make_picture(sheet, at_row, at_col, "excel_in_cell", data))
        if image_id and image_id in cell_images:
            data = pkg.media(cell_images[image_id])
            if data is not None:
                out.append(make_picture(sheet, at_row, at_col, "wps_cell_image", data, image_id))
    return out


def _dispimg_id(cell: etree._Element) -> str | None:
    """The image ID of a WPS =DISPIMG("ID_…",1) cell, from the formula or its cached text."""
    for child in cell:
        text = child.text if isinstance(child.tag, str) and child.tag[-2:] in ("}f", "}v") else None
        if text and "DISPIMG" in text:
            m = _DISPIMG.search(text)
            if m:
                return m.group(1)
    return None


def _pic_target(pkg: _Package, part: str, pic: etree._Element) -> tuple[str, str | None, str | None]:
    """(name, media path, outside link) of an xdr:pic; a linked picture (r:link) has no media path."""
    c_nv = descendants(pic, "cNvPr")
    name = c_nv[0].get("name", "") if c_nv else ""
    outside = None
    for blip in descendants(pic, "blip"):
        embed = attr(blip, "embed")
        if embed:
            return name, pkg.target(part, embed), None
        outside = outside or pkg.external(part, attr(blip, "link"))
    return name, None, outside


def _drawing_pictures(pkg: _Package, sheet: str, part: str, sheet_part: str) -> list[Picture]:
    root = pkg.xml(part)
    if root is None:
        return []
    from toolkit.readers.anchors import anchor_cell, sheet_widths

    out: list[Picture] = []
    widths = functools.cache(lambda: sheet_widths(pkg.zf, sheet_part))
    for anchor in _anchors(root):
        row, col = anchor_cell(anchor, widths)
        for pic in _pics(anchor):
            name, path, outside = _pic_target(pkg, part, pic)
            data = pkg.media(path)
            if data is not None:
                out.append(make_picture(sheet, row, col, "drawing", data, name))
            elif outside is not None:
                pkg.linked.append(linked_picture(sheet, row, col, "drawing", outside))
    return out


def _anchors(el: etree._Element) -> Iterator[etree._Element]:
    for child in el:
        name = local(child)
        if name in ("twoCellAnchor", "oneCellAnchor", "absoluteAnchor"):
            yield child
        elif name == "AlternateContent":
            branch = _alternate_branch(child, lambda b: any(True for _ in _anchors(b)))
            if branch is not None:
                yield from _anchors(branch)


def _pics(el: etree._Element) -> Iterator[etree._Element]:
    """xdr:pic elements under an anchor, through group shapes and one branch of each AlternateContent
    (Choice and Fallback usually hold the same picture twice)."""
    for child in el:
        name = local(child)
        if name == "pic":
            yield child
        elif name == "grpSp":
            yield from _pics(child)
        elif name == "AlternateContent":
            branch = _alternate_branch(child, lambda b: any(True for _ in _pics(b)))
            if branch is not None:
                yield from _pics(branch)


def _alternate_branch(alt: etree._Element, has_content) -> etree._Element | None:
    for branch in alt:
        if local(branch) in ("Choice", "Fallback") and has_content(branch):
            return branch
    return None


def _wps_cell_images(pkg: _Package, workbook: str) -> dict[str, str | None]:
    """WPS cellimages.xml: {image ID: media path}. The relationship type differs between WPS versions,
    so the part is found by its file name."""
    part = next((t for _, t in pkg.rels(workbook).values()
                 if t and posixpath.basename(t).lower() == "cellimages.xml"), None)
    root = pkg.xml(part)
    if part is None or root is None:
        return {}
    images: dict[str, str | None] = {}
    for pic in descendants(root, "pic"):
        name, path, _ = _pic_target(pkg, part, pic)
        if name:
            images[name] = path
    return images


def _rich_value_images(pkg: _Package, workbook: str) -> list[str | None]:
    """Excel "Place in Cell": for each 1-based vm index (list position + 1), the media path or None.

    vm -> metadata valueMetadata bk -> rc(t: 1-based metadata type, v: 0-based futureMetadata bk) ->
    xlrd:rvb/@i (rich value) -> rv's <v> at the position of _rvRel:LocalImageIdentifier in its structure
    -> richValueRel.xml rel (0-based) -> r:id -> media.
    """
    parts = {t: p for t, p in pkg.rels(workbook).values() if p}

    def by_type(suffix: str) -> str | None:
        return next((p for t, p in parts.items() if t.endswith(suffix)), None)

    metadata = pkg.xml(by_type("/sheetMetadata"))
    values = pkg.xml(by_type("/rdRichValue"))
    structures = pkg.xml(by_type("/rdRichValueStructure"))
    rel_part = by_type("/richValueRel")
    rel_list = pkg.xml(rel_part)
    if metadata is None or values is None or structures is None or rel_list is None or rel_part is None:
        return []
    image_key = [next((i for i, k in enumerate(children(s, "k")) if k.get("n") == _REL_LOCAL_IMAGE), None)
                 for s in children(structures, "s")]
    rels = [pkg.target(rel_part, attr(rel, "id")) for rel in children(rel_list, "rel")]
    rich: list[str | None] = []
    for rv in children(values, "rv"):
        rich.append(_rich_value_media(rv, image_key, rels))
    types = [t.get("name") for t in descendants(metadata, "metadataType")]
    future = {f.get("name"): [_int(next(iter(descendants(bk, "rvb")), None), "i") for bk in children(f, "bk")]
              for f in children(metadata, "futureMetadata")}
    out: list[str | None] = []
    for value_meta in children(metadata, "valueMetadata"):
        for bk in children(value_meta, "bk"):
            rc = next(iter(children(bk, "rc")), None)
            t, v = _int(rc, "t"), _int(rc, "v")
            name = types[t - 1] if t is not None and 1 <= t <= len(types) else None
            blocks = future.get(name, [])
            index = blocks[v] if v is not None and 0 <= v < len(blocks) else None
            out.append(rich[index] if index is not None and 0 <= index < len(rich) else None)
    return out


def _rich_value_media(rv: etree._Element, image_key: list[int | None], rels: list[str | None]) -> str | None:
    s = _int(rv, "s")
    key = image_key[s] if s is not None and 0 <= s < len(image_key) else None
    vs = children(rv, "v")
    if key is None or key >= len(vs):
        return None
    try:
        rel = int((vs[key].text or "").strip())
    except ValueError:
        return None
    return rels[rel] if 0 <= rel < len(rels) else None


def _int(el: etree._Element | None, name: str) -> int | None:
    value = None if el is None else el.get(name)
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None

