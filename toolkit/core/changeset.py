"""ChangeSet: everything an apply will do to a master, as plain data.

`plan` produces it (pure), `--dry-run` prints it, and a backend executes it: the file backend
(`toolkit.ooxml`) patches the .xlsx/.xlsm package, the live backend (`toolkit.excel.live`) writes through
xlwings. Rows and columns are 0-based.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

CellValue = str | int | float | bool | dt.date | dt.datetime | None
_BAD_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")


def sheet_name_problem(name: str, existing: list[str]) -> str | None:
    """Why Excel would refuse `name` for a new sheet beside `existing` (None: it is fine)."""
    if not name or len(name) > 31:
        return f"工作表名称“{name}”长度为 {len(name)}，必须为 1–31 个字符：请改短后再试"
    if bad := _BAD_SHEET_CHARS.findall(name):
        return f"工作表名称“{name}”含有不允许的字符 {' '.join(bad)}：工作表名称不能含 [ ] : * ? / \\"
    if name.startswith("'") or name.endswith("'"):
        return f"工作表名称“{name}”不能以单引号开头或结尾"
    if name.lower() in (n.lower() for n in existing):
        return f"工作簿中已有名为“{name}”的工作表：请换一个名称"
    return None


@dataclass(frozen=True)
class CellWrite:
    """Set one cell's value. Strings are always stored as text (never as formulas): a string that
    starts with = + - @ is written with a quote prefix. `fill` is an RGB hex colour ('C6EFCE')
    applied on top of the cell's existing format; `number_format` likewise (e.g. 'yyyy-mm-dd')."""

    sheet: str
    row: int
    col: int
    value: CellValue
    fill: str | None = None
    number_format: str | None = None


@dataclass(frozen=True)
class NewRow:
    """Create row `row` (below the last used row) formatted like row `like` (the ledger's first row is
    `like` itself: it keeps what it has): cell formats, row height, and column formulas (filled down
    with relative references shifted). Tables, auto-filters, data
    validations and conditional formats whose range ends at `like` grow to include the new row.
    `serial`: (column, number) of the row's 序号, written unless that column of `like` holds a formula
    (the office's =ROW()-3, filled down instead)."""

    sheet: str
    row: int
    like: int
    serial: tuple[int, int] | None = None


@dataclass(frozen=True)
class NewColumn:
    """Add a header `title` at (header_row, col), right of the existing columns, formatted like the
    header cell to its left; body cells of that column take the format of their left neighbour."""

    sheet: str
    col: int
    header_row: int
    title: str
    width: float | None = None  # in Excel character units


@dataclass(frozen=True)
class PicturePlacement:
    """Place a picture inside cell (row, col), scaled to `width_px` x `height_px`, moving and sizing
    with the cell. `data` is already normalised (PNG or JPEG)."""

    sheet: str
    row: int
    col: int
    data: bytes = field(repr=False)
    format: str  # "png" | "jpeg"
    width_px: int
    height_px: int
    name: str = ""  # shown as the picture's name in Excel (e.g. the branch)
    alt: str = ""  # alternative text read aloud and printed in place of the picture ("…党支部的品牌标识")


@dataclass(frozen=True)
class RowHeight:
    sheet: str
    row: int
    points: float


@dataclass(frozen=True)
class NewSheet:
    """Add a worksheet (e.g. the ledger or 操作记录 when a workbook has none). `rows[0]` is the header,
    written bold with a fill and frozen; `widths` are per column in Excel character units. `protected`
    turns on sheet protection without a password (Excel and WPS then refuse edits until unprotected)."""

    name: str
    rows: Sequence[Sequence[CellValue]]
    widths: Sequence[float] = field(default_factory=list)
    hidden: bool = False
    protected: bool = False
    # A list to read and print (the ledger): cells wrap, the header is `header_height` points tall and
    # every row below it `row_height` (even rows: a few lines of a long text, or the logo), an
    # auto-filter on the header, A4 landscape one page wide with the header on every page and page numbers;
    # the page shows the first `print_columns` columns (all when None), the desk's columns after them stay off.
    printed: bool = False
    header_height: float | None = None
    row_height: float | None = None
    print_columns: int | None = None


@dataclass
class ChangeSet:
    """What one apply does, in order: new sheets, new columns, new rows, cell writes, row heights,
    pictures. An empty ChangeSet leaves the master's bytes untouched."""

    new_sheets: list[NewSheet] = field(default_factory=list)
    new_columns: list[NewColumn] = field(default_factory=list)
    new_rows: list[NewRow] = field(default_factory=list)
    writes: list[CellWrite] = field(default_factory=list)
    row_heights: list[RowHeight] = field(default_factory=list)
    pictures: list[PicturePlacement] = field(default_factory=list)

    def __bool__(self) -> bool:
        return any((self.new_sheets, self.new_columns, self.new_rows, self.writes, self.row_heights,
                    self.pictures))
