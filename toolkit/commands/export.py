"""`brandkit export`: the progress frame (`toolkit.core.progress.progress_frame`, the counts' one source) as
CSV, Excel or Parquet, for offices that feed other systems; `progress_table` is the same frame for a notebook."""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from toolkit.core.errors import UsageProblem
from toolkit.core.model import china_today
from toolkit.core.progress import progress_frame
from toolkit.core.text import is_formula_like
from toolkit.files.atomic import write_atomic

if TYPE_CHECKING:
    import pandas as pd

EXPORTS = (".csv", ".xlsx", ".parquet")


def progress_table(master: Path, as_of: dt.date | None = None, profile_name: str | None = None) -> pd.DataFrame:
    """For a notebook: the master's progress frame as of `as_of` (default today) — one row per branch,
    typed columns, one per stage (`toolkit.core.progress.progress_frame`). With `as_of`, the master as it
    stood at the end of that day, as `status --date` and `summary --as-of` count it
    (`toolkit.commands.status.as_of`): a stamp dated later is not made yet."""
    from toolkit.commands.status import as_of as master_as_of
    from toolkit.files.masterfile import load_master

    snap = load_master(master, profile_name)
    if as_of is not None:
        snap = master_as_of(snap, as_of)[0]
    return progress_frame(snap, as_of or china_today())


@dataclass
class ExportResult:
    path: Path
    rows: int

    def to_json(self) -> dict[str, Any]:
        return {"export": str(self.path), "rows": self.rows}


def export(master: Path, out: Path, as_of: dt.date | None = None, profile_name: str | None = None) -> ExportResult:
    """`brandkit export MASTER -o 进展.csv|.xlsx|.parquet`: the progress frame, one row per branch."""
    suffix = out.suffix.lower()
    if suffix not in EXPORTS:
        raise UsageProblem(f"导出文件应为 {'、'.join(EXPORTS)} 之一（收到：{out.name}）")
    if out.resolve() == master.resolve():
        raise UsageProblem(f"不能导出到台账 {master.name} 本身，请用 -o 指定另一个文件名")
    import pandas as pd

    frame = progress_table(master, as_of, profile_name)
    buf = io.BytesIO()
    if suffix == ".csv":  # the BOM: Excel opens it as UTF-8
        buf.write(_quoted_formulas(frame).to_csv(index=False).encode("utf-8-sig"))
    elif suffix == ".xlsx":  # text stays text: a roster's "=1+2" never becomes a live formula
        with pd.ExcelWriter(buf, engine="xlsxwriter", engine_kwargs={"options": {
                "strings_to_formulas": False, "strings_to_urls": False}}) as writer:
            frame.to_excel(writer, index=False, sheet_name="进展明细")
    else:
        try:
            import pyarrow  # noqa: F401
        except ImportError:
            raise UsageProblem("导出 .parquet 需要 pyarrow（pip install pyarrow），或改为导出 .csv / .xlsx") from None
        frame.attrs = {}  # dates and dicts in attrs are not Parquet metadata
        frame.to_parquet(buf, index=False)
    out.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(out, buf.getvalue())
    return ExportResult(out, len(frame))


def _quoted_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """Text a spreadsheet would run as a formula (= + - @ first) behind a quote, as Excel shows such
    text typed as text: a CSV has no cell types, so this is the only way to keep it text (CSV injection)."""
    import pandas as pd

    def text(column: pd.Series) -> bool:  # object, string and categorical columns hold text
        return not (pd.api.types.is_numeric_dtype(column) or pd.api.types.is_datetime64_any_dtype(column))

    return frame.apply(lambda column: column.map(lambda v: "'" + v if is_formula_like(v) else v)
                       if text(column) else column)
