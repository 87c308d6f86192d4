"""xl/sharedStrings.xml: look up or append strings; existing entries and indices never change.

New items are spliced in as text before </sst> so the existing items keep their bytes; only the
count/uniqueCount attributes of the root are rewritten.
"""

from __future__ import annotations

import re

from .errors import PackageError
from .package import Package
from .xmltools import MAIN, StartTag, esc, parse

_ROOT = re.compile(rb"<((?:\w+:)?sst)\b[^>]*?(/?)>")
# Cell text in OOXML encodes characters XML cannot carry as `_xHHHH_`; Excel decodes every such pattern,
# so one a branch typed must be written with its underscore escaped: `_x0041_` -> `_x005F_x0041_`.
_ESCAPE = re.compile(r"_x([0-9A-Fa-f]{4})_")  # a lowercase x only, as Excel and calamine decode


def t_element(text: str, prefix: str = "") -> str:
    space = ' xml:space="preserve"' if text != text.strip() or "\n" in text else ""
    return f"<{prefix}t{space}>{esc(_ESCAPE.sub(_escaped, text))}</{prefix}t>"


def _escaped(m: re.Match[str]) -> str:
    return "_x005F" + m.group()


def cell_text(xml_text: str) -> str:
    """The text a <t> element's content stands for, `_xHHHH_` decoded as Excel decodes it."""
    return _ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), xml_text)


class SharedStrings:
    def __init__(self, pkg: Package, part: str):
        self.pkg, self.part = pkg, part
        self.data = pkg.read(part) or b""
        _, root = parse(self.data, part)
        self.index: dict[str, int] = {}
        self.count = 0
        for i, si in enumerate(root.iterchildren(f"{{{MAIN}}}si")):
            self.count = i + 1
            if len(si) == 1 and si[0].tag == f"{{{MAIN}}}t":
                self.index.setdefault(cell_text(si[0].text or ""), i)
        m = _ROOT.search(self.data)
        self.prefix = m.group(1).decode()[:-3] if m else ""
        self.new: list[str] = []

    def add(self, text: str) -> int:
        """Index of `text`, appending it when absent."""
        if text not in self.index:
            self.index[text] = self.count
            self.count += 1
            p = self.prefix
            self.new.append(f"<{p}si>{t_element(text, p)}</{p}si>")
        return self.index[text]

    def save(self, refs_added: int) -> None:
        """Write back; `refs_added` is the change in how many cells reference shared strings (count)."""
        if not self.new and not refs_added:
            return
        m = _ROOT.search(self.data)
        if m is None:
            raise PackageError(f"工作簿部件 {self.part} 缺少 <sst> 根元素：文件已损坏，请用 Excel 或 WPS 打开后另存再试")
        tag = StartTag(m.group(0).decode())
        total = int(tag.get("count") or 0) + refs_added
        tag.set("count", str(max(total, self.count)))
        tag.set("uniqueCount", str(self.count))
        body = "".join(self.new).encode()
        name = m.group(1).decode()
        if m.group(2):  # <sst .../> with no items yet
            out = self.data[:m.start()] + tag.text(empty=False).encode() + body + f"</{name}>".encode() \
                + self.data[m.end():]
        else:
            end = self.data.rindex(f"</{name}>".encode())
            out = self.data[:m.start()] + tag.text().encode() + self.data[m.end():end] + body + self.data[end:]
        self.pkg.write(self.part, out)
