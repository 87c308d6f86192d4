"""Word forms (.docx) as grids, so a Word 申报表 is read by its labels exactly as a sheet is.

The body is read in document order. Each table becomes rows of cells on its grid columns: `w:gridSpan`,
`w:vMerge` (and the legacy `w:hMerge`) become merged ranges and `w:gridBefore` shifts a row, so the label
reader finds a value right of its label over merged blocks as in a sheet. A cell's text is its paragraphs
joined by "\\n". A nested table becomes a block of its own right after the table holding it.

Short paragraphs near a table ("填报单位：…" above it, "填表人：…  联系电话：…" below) become rows too,
split into cells at tabs, line breaks and wide gaps, so "标签：值" lines go through the same label
reader. Paragraphs farther than _NEAR non-empty paragraphs from every table (the notice's own text, when
a branch filled the form inside the whole notice) are left out, unless the document has no table.

The blocks are stacked into one grid per form, named 表格1, 表格2, …: a form split over several tables
is one grid; a table whose first cell repeats the first cell of the form's first table (a 党总支 pasting
its branches' forms one after another) starts the next grid.

Pictures: DrawingML (`w:drawing` → `a:blip r:embed`, inline or floating) and legacy VML (`w:pict` →
`v:imagedata r:id`) are anchored at the cell (or paragraph row) holding them. A picture that only links
to a file or URL outside the package (`r:link`, TargetMode="External") is never fetched; it is returned
in `linked` so the caller can say so. Tracked deletions, field codes, OLE objects and the placeholder text
of empty content controls are no part of any value. Text typed in a text box inside a table cell is the
cell's text (a value floated over its cell); a table typed inside a text box is read as a table of its
own, right after the paragraph or table holding the box.
"""

from __future__ import annotations

import posixpath
import re
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from toolkit.core.grid import Grid, Merge
from toolkit.core.model import Picture, PictureScheme
from toolkit.core.text import normalize_label
from toolkit.readers import xmlsafe
from toolkit.readers.errors import Unreadable
from toolkit.readers.grid import clean_value
from toolkit.readers.limits import DEFAULT_LIMITS, Limits, check_area, check_size, check_zip
from toolkit.readers.pictures import MediaBudget, linked_picture, make_picture
from toolkit.readers.pictures_xlsx import _Package, attr, local
from toolkit.readers.zipparts import package_zip, read_member

DOCUMENT = "word/document.xml"
SHEET_PREFIX = "表格"
_W = {"http://schemas.openxmlformats.org/wordprocessingml/2006/main",  # transitional
      "http://purl.oclc.org/ooxml/wordprocessingml/main"}  # strict
_MC = "http://schemas.openxmlformats.org/markup-compatibility/2006"
# Subtrees that hold no value: properties, tracked deletions, OLE objects (their preview is not a picture)
_SKIP = {"pPr", "rPr", "tcPr", "trPr", "tblPr", "tblGrid", "sdtPr", "sdtEndPr", "del", "moveFrom", "object"}
_NEAR = 3  # non-empty paragraphs a "标签：值" line may be away from a table
_MAX_SPAN = 64  # Word tables have at most 63 columns
_MAX_COLS = 16384  # as a sheet: a wider row is hostile
_GAP = re.compile(r"[\t\n]+| {2,}|\u3000{2,}")

# (row, col, scheme, r:embed, r:link) of a picture reference, row relative to its block
_Ref = tuple[int, int, PictureScheme, str | None, str | None]


@dataclass
class WordContent:
    """A Word document read as forms: grids by name, pictures anchored in them, and pictures that are
    only links to outside files (never fetched; `name` holds the link, `data` is empty)."""

    grids: dict[str, Grid] = field(default_factory=dict)
    pictures: list[Picture] = field(default_factory=list)
    linked: list[Picture] = field(default_factory=list)


@dataclass
class _Block:
    rows: list[list[Any]] = field(default_factory=list)
    merged: list[Merge] = field(default_factory=list)
    refs: list[_Ref] = field(default_factory=list)
    key: str = ""  # a table's first cell, normalised: a repeat starts the next form
    table: bool = False
    nested: list[_Block] = field(default_factory=list)


def read_word(data: bytes, kind: str, limits: Limits = DEFAULT_LIMITS,
              package: zipfile.ZipFile | None = None) -> WordContent:
    """A sniffed Word-like file ("docx", or "doc"/"wps"/"rtf" converted by LibreOffice first).
    `package`: a .docx's zip, when the caller has opened it already."""
    if kind != "docx":
        from toolkit.readers.wordconvert import convert_to_docx

        data, package = convert_to_docx(data, kind, limits), None
        check_size(len(data), limits)
    with _opened(data, package) as zf:
        check_zip(zf, limits)
        return read_docx(data, limits, zf)


@contextmanager
def _opened(data: bytes, package: zipfile.ZipFile | None = None) -> Iterator[zipfile.ZipFile]:
    with package_zip(data, package) as zf:
        if zf is None:
            raise Unreadable("corrupt")
        yield zf


def _body(zf: zipfile.ZipFile, limits: Limits) -> Any:
    """The document's w:body (None when it has none), its XML read under the limits and parsed safely."""
    xml = read_member(zf, DOCUMENT, limits.max_document_bytes)
    if xml is None:
        raise Unreadable("corrupt", detail=DOCUMENT)
    return next((c for c in xmlsafe.parse_xml(xml) if _wname(c) == "body"), None)


def read_docx(data: bytes, limits: Limits = DEFAULT_LIMITS, package: zipfile.ZipFile | None = None) -> WordContent:
    """Grids and pictures of a .docx whose package has passed `check_zip` (`package`: its zip, when the
    caller has opened it already)."""
    with _opened(data, package) as zf:
        body = _body(zf, limits)
        blocks = [] if body is None else _select(list(_body_items(body, limits)))
        content = WordContent()
        pkg = _Package(zf, MediaBudget())
        groups = _group(blocks)
        for n, group in enumerate(groups, start=1):
            name = f"{SHEET_PREFIX}{n}"
            grid, refs = _stack(name, group)
            check_area(name, len(grid.rows), max(grid.width, 1), limits)
            content.grids[name] = grid
            for row, col, scheme, embed, link in refs:
                _place(pkg, content, name, row, col, scheme, embed, link)
        return content


def _wname(el: Any) -> str:
    """Local name of a WordprocessingML element; "" for anything else (other namespaces, comments)."""
    tag = el.tag
    if not isinstance(tag, str) or not tag.startswith("{"):
        return ""
    ns, _, name = tag[1:].partition("}")
    return name if ns in _W else ""


def _child(el: Any, name: str) -> Any:
    if el is None:
        return None
    return next((c for c in el if _wname(c) == name), None)


def _val(el: Any, name: str) -> str | None:
    """w:val of child `name` of a properties element: None when absent, "" when it has no w:val."""
    prop = _child(el, name)
    return None if prop is None else (attr(prop, "val") or "")


def _int_val(el: Any, name: str, cap: int) -> int:
    value = _val(el, name) or ""
    return min(int(value), cap) if value.isdigit() else 0


def _placeholder(sdt: Any) -> bool:
    """An empty content control shows its prompt ("单击或点击此处输入文字"): that is no value."""
    props = _child(sdt, "sdtPr")
    return props is not None and _child(props, "showingPlcHdr") is not None


def _walk(el: Any) -> Iterator[Any]:
    """Descendants of `el`, skipping markup-compatibility fallbacks (a second copy of the same thing) and
    text boxes holding a table (read as tables of their own, pictures included)."""
    for child in el:
        if child.tag == f"{{{_MC}}}Fallback" or (local(child) == "txbxContent" and _boxed_tables(child)):
            continue
        yield child
        yield from _walk(child)


def _boxed_tables(box: Any) -> list[Any]:
    return list(_children(box, "tbl"))


def _text_box_tables(el: Any) -> Iterator[Any]:
    """Tables typed in the text boxes of a drawing or VML shape (a form drawn in a 文本框), each once."""
    for child in el:
        if child.tag == f"{{{_MC}}}Fallback":
            continue
        if local(child) == "txbxContent":
            yield from _boxed_tables(child)
        elif isinstance(child.tag, str):
            yield from _text_box_tables(child)


def _box_text(el: Any, text: list[str]) -> None:
    """Text typed in the text boxes of a drawing or VML shape (a value floated over its cell); boxes
    holding a table are read as tables of their own instead."""
    for child in el:
        if child.tag == f"{{{_MC}}}Fallback":
            continue
        if local(child) == "txbxContent":
            if not _boxed_tables(child):
                _content(child, text, [], [], boxes=True)  # its pictures are the shape's, taken already
        elif isinstance(child.tag, str):
            _box_text(child, text)


def _content(el: Any, text: list[str], refs: list[tuple[PictureScheme, str | None, str | None]],
             nested: list[Any], boxes: bool = False) -> None:
    """Text, picture references and nested tables under `el`, in document order; `boxes`: text box
    text too (a table cell's, where a branch may type its value in a box)."""
    for child in el:
        name = _wname(child)
        if name == "t":
            text.append(child.text or "")
        elif name in ("tab", "ptab"):
            text.append("\t")
        elif name in ("br", "cr"):
            text.append("\n")
        elif name == "noBreakHyphen":
            text.append("-")
        elif name == "tbl":
            nested.append(child)
        elif name == "drawing":
            refs.extend(("docx_drawing", attr(b, "embed"), attr(b, "link"))
                        for b in _walk(child) if local(b) == "blip")
            nested.extend(_text_box_tables(child))
            if boxes:
                _box_text(child, text)
        elif name == "pict":
            refs.extend(("docx_vml", attr(i, "id") or attr(i, "relid"), None)
                        for i in _walk(child) if local(i) == "imagedata")
            nested.extend(_text_box_tables(child))
            if boxes:
                _box_text(child, text)
        elif name in _SKIP or (name == "sdt" and _placeholder(child)) or child.tag == f"{{{_MC}}}Fallback":
            continue
        elif isinstance(child.tag, str):
            if name == "p" and text:
                text.append("\n")
            _content(child, text, refs, nested, boxes)


def _body_items(el: Any, limits: Limits) -> Iterator[_Block]:
    """Block-level paragraphs and tables, through content controls and custom XML wrappers."""
    for child in el:
        name = _wname(child)
        if name == "p":
            text: list[str] = []
            refs: list[tuple[PictureScheme, str | None, str | None]] = []
            boxed: list[Any] = []
            _content(child, text, refs, boxed)
            cells = [clean_value(c.strip()) for c in _GAP.split("".join(text))]
            row = [c for c in cells if c is not None]
            yield _Block(rows=[row], refs=[(0, 0, *ref) for ref in refs])
            yield from (_table(t, limits) for t in boxed)
        elif name == "tbl":
            yield _table(child, limits)
        elif name in ("sdt", "sdtContent", "customXml") and not (name == "sdt" and _placeholder(child)):
            yield from _body_items(child, limits)


def _children(parent: Any, tag: str) -> Iterator[Any]:
    """`parent`'s w:`tag` children, looking through content controls and custom XML wrappers."""
    for child in parent:
        name = _wname(child)
        if name == tag:
            yield child
        elif name in ("sdt", "sdtContent", "customXml"):
            yield from _children(child, tag)


def _rows(tbl: Any) -> Iterator[Any]:
    return _children(tbl, "tr")


def _cells(tr: Any) -> Iterator[Any]:
    return _children(tr, "tc")


def _table(tbl: Any, limits: Limits) -> _Block:
    block = _Block(table=True)
    spans: list[list[int]] = []  # [first_row, first_col, last_row, last_col] of every cell
    open_runs: dict[int, int] = {}  # first column of a vMerge run -> its index in spans
    for r, tr in enumerate(_rows(tbl)):
        col = _int_val(_child(tr, "trPr"), "gridBefore", _MAX_SPAN)
        row: list[Any] = []
        for tc in _cells(tr):
            props = _child(tc, "tcPr")
            span = max(1, _int_val(props, "gridSpan", _MAX_SPAN))
            text: list[str] = []
            refs: list[tuple[PictureScheme, str | None, str | None]] = []
            nested: list[Any] = []
            _content(tc, text, refs, nested, boxes=True)
            vmerge, hmerge = _val(props, "vMerge"), _val(props, "hMerge")
            if hmerge not in (None, "restart") and spans and spans[-1][0] == r:
                cell = spans[-1]  # legacy horizontal merge: this cell widens the one before it
                cell[3] = col + span - 1
            elif vmerge not in (None, "restart") and col in open_runs:
                cell = spans[open_runs[col]]  # continues the vertical run above: its text is not shown
                cell[2] = r
            else:
                cell = [r, col, r, col + span - 1]
                spans.append(cell)
                for c in range(col, col + span):
                    open_runs.pop(c, None)
                if vmerge == "restart":
                    open_runs[col] = len(spans) - 1
                value = clean_value("\n".join(ln.rstrip() for ln in "".join(text).split("\n")).strip())
                if value is not None:
                    row.extend([None] * (col + 1 - len(row)))
                    row[col] = value.replace("\t", " ")
            block.refs.extend((cell[0], cell[1], *ref) for ref in refs)
            block.nested.extend(_table(t, limits) for t in nested)
            col += span
            if col > _MAX_COLS:
                raise Unreadable("too_many_cells", rows=r + 1, cols=col, limit=limits.max_cells)
        block.rows.append(row)
    block.merged = [(a, b, c, d) for a, b, c, d in spans if (a, b) != (c, d)]
    first = next((v for v in (block.rows[0] if block.rows else []) if isinstance(v, str)), "")
    block.key = normalize_label(first)
    return block


def _select(items: list[_Block]) -> list[_Block]:
    """Tables, and the non-empty paragraphs near one (all paragraphs when there is no table)."""
    if not any(b.table for b in items):
        return [b for b in items if b.rows[0] or b.refs]
    filled = [b for b in items if b.table or b.rows[0] or b.refs]
    near = [False] * len(filled)
    for order in (range(len(filled)), range(len(filled) - 1, -1, -1)):
        since = _NEAR + 1
        for i in order:
            since = 0 if filled[i].table else since + 1
            near[i] = near[i] or since <= _NEAR
    return [b for b, keep in zip(filled, near, strict=True) if keep]


def _group(blocks: list[_Block]) -> list[list[_Block]]:
    """Blocks split into forms: a table repeating the first table's first cell starts the next form."""
    groups: list[list[_Block]] = []
    key = ""
    for block in blocks:
        if not groups or (block.table and key and block.key == key):
            groups.append([])
            key = ""
        if block.table and not key and not any(b.table for b in groups[-1]):
            key = block.key
        groups[-1].append(block)
        groups[-1].extend(_flatten(block.nested))
    return groups


def _flatten(blocks: list[_Block]) -> list[_Block]:
    return [x for b in blocks for x in (b, *_flatten(b.nested))]


def _stack(name: str, blocks: list[_Block]) -> tuple[Grid, list[_Ref]]:
    grid = Grid(name, [])
    refs: list[_Ref] = []
    for block in blocks:
        top = len(grid.rows)
        grid.rows.extend(block.rows)
        grid.merged.extend((r1 + top, c1, r2 + top, c2) for r1, c1, r2, c2 in block.merged)
        refs.extend((row + top, col, scheme, embed, link) for row, col, scheme, embed, link in block.refs)
    return grid, refs


def _place(pkg: _Package, content: WordContent, sheet: str, row: int, col: int, scheme: PictureScheme,
           embed: str | None, link: str | None) -> None:
    """A picture reference made a Picture (embedded) or a linked one (never fetched)."""
    target = pkg.target(DOCUMENT, embed) if embed else None
    blob = pkg.media(target)
    if blob is not None and target is not None:
        content.pictures.append(make_picture(sheet, row, col, scheme, blob, posixpath.basename(target)))
        return
    outside = pkg.external(DOCUMENT, embed) or pkg.external(DOCUMENT, link)
    if outside is not None:
        content.linked.append(linked_picture(sheet, row, col, scheme, outside))



def read_document(data: bytes, limits: Limits = DEFAULT_LIMITS) -> tuple[list[str], list[Picture]]:
    """A Word report's text, every block in document order (a paragraph's pieces and a table's cells one
    line each), and its embedded pictures: all of the body, where `read_docx` keeps only the forms."""
    with _opened(data) as zf:
        check_zip(zf, limits)
        body = _body(zf, limits)
        lines: list[str] = []
        content = WordContent()
        pkg = _Package(zf, MediaBudget())
        for block in _flatten(list(_body_items(body, limits))) if body is not None else []:
            lines.extend(str(v) for row in block.rows for v in row if v not in (None, ""))
            for _row, _col, scheme, embed, link in block.refs:
                _place(pkg, content, "", 0, 0, scheme, embed, link)
        return lines, content.pictures
