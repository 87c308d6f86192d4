"""SpreadsheetML 2003 (.xml, often saved as .xls by old systems): Workbook/Worksheet/Table/Row/Cell."""

from __future__ import annotations

from typing import Any

from toolkit.core.grid import Grid
from toolkit.readers.errors import Unreadable
from toolkit.readers.xmlsafe import parse_xml

SS = "{urn:schemas-microsoft-com:office:spreadsheet}"


def read_xml2003(data: bytes) -> dict[str, Grid]:
    root = parse_xml(data)
    grids: dict[str, Grid] = {}
    for n, ws in enumerate(root.iter(f"{SS}Worksheet"), start=1):
        grid = Grid(ws.get(f"{SS}Name") or f"Sheet{n}", [])
        r = -1
        for row in ws.iter(f"{SS}Row"):
            r = int(row.get(f"{SS}Index", r + 2)) - 1
            values: list[Any] = []
            c = -1
            for cell in row.iter(f"{SS}Cell"):
                c = int(cell.get(f"{SS}Index", c + 2)) - 1
                data_el = cell.find(f"{SS}Data")
                text = "".join(data_el.itertext()) if data_el is not None else None
                value: Any = text
                if text is not None and data_el.get(f"{SS}Type") == "Number":
                    try:
                        value = float(text)
                    except ValueError:
                        value = text
                values.extend([None] * (c + 1 - len(values)))
                values[c] = value if value not in ("", None) else None
                across, down = int(cell.get(f"{SS}MergeAcross", 0)), int(cell.get(f"{SS}MergeDown", 0))
                if across or down:
                    grid.merged.append((r, c, r + down, c + across))
                c += across
            grid.rows.extend([] for _ in range(r + 1 - len(grid.rows)))
            grid.rows[r] = values
        grids[grid.name] = grid
    if not grids:
        raise Unreadable("not_spreadsheet", what="XML 文件（其中没有工作表）")
    return grids
