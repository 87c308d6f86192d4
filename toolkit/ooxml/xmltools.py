"""The tiny XML layer: namespaces, a safe lxml parse that keeps the original prolog, start-tag
attribute editing on raw text (so untouched attributes keep their bytes), and escaping."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from .errors import PackageError

if TYPE_CHECKING:
    from lxml import etree

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
STRICT_MAIN = "http://purl.oclc.org/ooxml/spreadsheetml/main"
R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
CT = "http://schemas.openxmlformats.org/package/2006/content-types"
XDR = "http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing"
A = "http://schemas.openxmlformats.org/drawingml/2006/main"
MC = "http://schemas.openxmlformats.org/markup-compatibility/2006"
XM = "http://schemas.microsoft.com/office/excel/2006/main"
X14 = "http://schemas.microsoft.com/office/spreadsheetml/2009/9/main"
REL_TYPE = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/"

_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
_ATTR = re.compile(r"""([^\s=]+)\s*=\s*("[^"]*"|'[^']*')""")
_PROLOG_END = re.compile(r"<(?![?!])")


def clean_text(text: str) -> str:
    """Drop the characters XML 1.0 cannot carry (control characters, lone surrogates)."""
    return _ILLEGAL.sub("", text)


def esc(text: str, quote: bool = False) -> str:
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    if quote:
        text = text.replace('"', "&quot;").replace("\r", "&#13;").replace("\n", "&#10;").replace("\t", "&#9;")
    else:
        text = text.replace("\r", "&#13;")  # a bare CR would be normalised away by every reader
    return text


def unesc(text: str) -> str:
    if "&" not in text:
        return text
    from html import unescape

    return unescape(text)


def parse(data: bytes, part: str) -> tuple[bytes, etree._Element]:
    """(prolog bytes, root) of an XML part; the prolog (declaration, line break) is kept verbatim."""
    from lxml import etree

    head = data[:512].decode("utf-8", "ignore")
    m = _PROLOG_END.search(head)
    cut = len(head[:m.start()].encode("utf-8")) if m else 0
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True, load_dtd=False)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise PackageError(f"工作簿部件 {part} 不是有效的 XML（{exc}）：请用 Excel 或 WPS 打开后另存再试") from exc
    return data[:cut], root


def serialize(prolog: bytes, root: etree._Element) -> bytes:
    from lxml import etree

    if not prolog:
        prolog = b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n'
    return prolog + etree.tostring(root, encoding="UTF-8", xml_declaration=False)


def local(tag: object) -> str:
    """Local name of an lxml tag ('' for comments and processing instructions)."""
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


class StartTag:
    """A start tag parsed from raw text; attributes keep their raw spelling unless changed."""

    __slots__ = ("name", "attrs", "empty")

    _RE = re.compile(r"<([^\s/>]+)(.*?)(/?)>\Z", re.S)

    def __init__(self, text: str):
        m = self._RE.match(text)
        if not m:
            raise ValueError(text)
        self.name = m.group(1)
        self.attrs: dict[str, str] = {k: v[1:-1] for k, v in _ATTR.findall(m.group(2))}
        self.empty = bool(m.group(3))

    def copy(self) -> StartTag:
        other = StartTag.__new__(StartTag)
        other.name, other.attrs, other.empty = self.name, dict(self.attrs), self.empty
        return other

    def get(self, key: str, default: str | None = None) -> str | None:
        v = self.attrs.get(key)
        return default if v is None else unesc(v)

    def set(self, key: str, value: str | None) -> None:
        if value is None:
            self.attrs.pop(key, None)
        else:
            self.attrs[key] = value if value.isalnum() else esc(value, quote=True)

    def text(self, empty: bool | None = None) -> str:
        attrs = "".join(f' {k}="{v}"' if '"' not in v else f" {k}='{v}'" for k, v in self.attrs.items())
        return f"<{self.name}{attrs}{'/' if (self.empty if empty is None else empty) else ''}>"


def ns_prefixes(start_tag: str) -> dict[str, str]:
    """{namespace uri: prefix} declared in a raw start tag ('' for the default namespace)."""
    out = {}
    for k, v in _ATTR.findall(start_tag):
        if k == "xmlns":
            out[v[1:-1]] = ""
        elif k.startswith("xmlns:"):
            out[v[1:-1]] = k[6:]
    return out


def insert_in_order(parent: etree._Element, child: etree._Element, order: list[str]) -> None:
    """Insert `child` before the first sibling that must follow it in the schema sequence `order`.
    An mc:AlternateContent sibling is placed by the element its first Choice wraps."""
    rank = order.index(local(child.tag))
    for i, sib in enumerate(parent):
        name = local(sib.tag)
        if name == "AlternateContent" and len(sib) and len(sib[0]):
            name = local(sib[0][0].tag)
        if name in order and order.index(name) > rank:
            parent.insert(i, child)
            return
    parent.append(child)
