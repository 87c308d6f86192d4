"""`brandkit summary`: a workbook for leaders (xlsxwriter) and, on request, the charts as PNG (matplotlib).

Sheets: 总体进度 (报送情况, 提交率 and 完成率 per 党总支 and in total, per stage, with native charts),
未提交名单 (催报, with the roster's contacts), 进展明细 (one row per branch, every stage; 已退出 on a stage
the branch has left, and why), 品牌一览 (with logo thumbnails), 问题汇总. Every figure comes from
`toolkit.core.progress` — the same frame `status` counts — so no two views disagree. Every sheet prints on A4 landscape in one font family, its header
row repeated on each page and every row tall enough for its wrapped text.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from toolkit.commands.charts import COLOURS, write_png_charts
from toolkit.commands.charts import cjk_font as cjk_font  # where callers found it before charts.py
from toolkit.commands.status import Progress, as_of, days_text, group_table, progress, stage_table
from toolkit.core.datetext import official_date
from toolkit.core.display import wrapped_height
from toolkit.core.errors import UsageProblem
from toolkit.core.master import MasterSnapshot
from toolkit.core.model import china_today
from toolkit.core.profile import Profile
from toolkit.core.progress import CONTACT_COLUMNS, WITHDRAWN
from toolkit.core.vocabulary import UNHANDLED, ReportState
from toolkit.files.atomic import replace

SHEETS = ("总体进度", "未提交名单", "进展明细", "品牌一览", "问题汇总")
FONT = "宋体"  # the one family of every cell and chart of the workbook
THUMB_PX = 64  # logo thumbnail height in 品牌一览
BRAND_TEXT_WIDTH = 70.0
BRAND_TEXT_FIELDS = ("品牌内涵", "品牌简介", "特色简介")
WITHDRAWN_NOTE = "退出情况"  # 进展明细's column saying why a branch has left stages


@dataclass
class SummaryResult:
    path: Path
    progress: Progress
    charts: list[Path] = field(default_factory=list)
    font: str | None = None  # font file the PNG charts were drawn with

    def to_json(self) -> dict[str, Any]:
        return {"summary": str(self.path), "charts": [str(p) for p in self.charts], "font": self.font}


def summary(master: Path, out: Path, png_dir: Path | None = None, profile_name: str | None = None,
            today: dt.date | None = None) -> SummaryResult:
    """`brandkit summary MASTER -o 汇总.xlsx [--png DIR] [--as-of DATE]`."""
    from toolkit.files.masterfile import load_master

    snap, log = as_of(load_master(master, profile_name), today)  # --as-of: only what happened by then
    return write_summary(snap, out, png_dir, today=today, log_rows=log)


def write_summary(snap: MasterSnapshot, out_path: Path, png_dir: Path | None = None,
                  today: dt.date | None = None, log_rows: list[list[Any]] | None = None) -> SummaryResult:
    if out_path.resolve() == snap.path.resolve():
        raise UsageProblem(f"汇总表不能写到台账 {snap.path.name} 本身，请用 -o 指定另一个文件名")
    if out_path.suffix.lower() != ".xlsx":
        raise UsageProblem(f"汇总表应保存为 .xlsx 文件（收到：{out_path.name}）")
    p = progress(snap, today or china_today(), log_rows)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_path.with_name(f".{out_path.stem}.brandkit-tmp.xlsx")
    try:
        _write_workbook(snap, p, tmp)
        replace(tmp, out_path)
    finally:
        tmp.unlink(missing_ok=True)
    result = SummaryResult(out_path, p)
    if png_dir is not None:
        result.charts, result.font = write_png_charts(p, png_dir)
    return result

OWED_SHEET = "待交材料"  # only for a campaign with deliverables


# -- the workbook ------------------------------------------------------------------------------------

def campaign_name(profile: Profile) -> str:
    """The campaign's full name for a title: the notice's title without 关于…的通知, else “title”工作."""
    name = profile.notice_title.strip()
    for prefix in ("关于",):
        name = name.removeprefix(prefix)
    for suffix in ("的通知", "的实施方案", "实施方案", "通知"):
        name = name.removesuffix(suffix)
    title = profile.title.strip()
    return name or (title if title.startswith("“") else f"“{title}”工作")


def _write_workbook(snap: MasterSnapshot, p: Progress, path: Path) -> None:
    import xlsxwriter

    wb = xlsxwriter.Workbook(str(path), {"strings_to_formulas": False, "strings_to_urls": False,
                                         "strings_to_numbers": False})
    wb.set_properties({"title": f"{campaign_name(p.profile)}进展情况汇总", "author": p.profile.issuer,
                       "comments": "由 brandkit 生成"})
    fmt = _formats(wb)
    _progress_sheet(wb, fmt, p)
    _missing_sheet(wb, fmt, p)
    _detail_sheet(wb, fmt, p)
    _brand_sheet(wb, fmt, snap, p)
    _issue_sheet(wb, fmt, p)
    if p.profile.deliverables:
        _owed_sheet(wb, fmt, p)
    wb.close()


TITLE_PT = 16
TITLE_ROW_PT = wrapped_height([], TITLE_PT)  # a row for one line of the title


def _formats(wb: Any) -> dict[str, Any]:
    base = {"font_name": FONT, "font_size": 11, "valign": "vcenter"}
    cell = {**base, "border": 1, "text_wrap": True}
    return {
        "title": wb.add_format({**base, "bold": True, "font_size": TITLE_PT}),
        "heading": wb.add_format({**base, "bold": True, "font_size": 12}),
        "note": wb.add_format({**base, "font_color": "#595959"}),
        "head": wb.add_format({**cell, "bold": True, "bg_color": "#DDEBF7", "align": "center"}),
        "cell": wb.add_format(cell),
        "wrap": wb.add_format({**cell, "valign": "top"}),
        "rate": wb.add_format({**cell, "num_format": "0.0%"}),
        "total": wb.add_format({**cell, "bold": True, "bg_color": "#F2F2F2"}),
        "total_rate": wb.add_format({**cell, "bold": True, "bg_color": "#F2F2F2", "num_format": "0.0%"}),
        "late": wb.add_format({**cell, "font_color": "#C00000", "bold": True}),
        "explain": wb.add_format({**base, "font_color": "#595959", "text_wrap": True, "valign": "top"}),
    }


def _sheet(wb: Any, name: str, title: str, note: str, header: list[str], widths: Sequence[float],
           fmt: dict[str, Any]) -> Any:
    """A sheet with a title, a note line and a frozen header row (row 3), set up to print on A4
    landscape with the header on every page."""
    ws = wb.add_worksheet(name)
    ws.write(0, 0, title, fmt["title"])
    ws.set_row(0, TITLE_ROW_PT)
    ws.write(1, 0, note, fmt["note"])
    ws.write_row(3, 0, header, fmt["head"])
    ws.set_row(3, wrapped_height(zip(header, widths, strict=True)))
    for col, width in enumerate(widths):
        ws.set_column(col, col, width)
    ws.freeze_panes(4, 0)
    ws.set_paper(9)  # A4
    ws.set_landscape()
    ws.fit_to_pages(1, 0)
    ws.repeat_rows(3)
    ws.set_margins(left=0.5, right=0.5, top=0.7, bottom=0.7)
    ws.set_footer(f"&C&\"{FONT}\"第 &P 页，共 &N 页")
    return ws


def _row(ws: Any, n: int, values: Sequence[Any], widths: Sequence[float], fmt: Any) -> None:
    """One table row, tall enough for its wrapped text."""
    ws.write_row(n, 0, values, fmt)
    ws.set_row(n, wrapped_height(zip(values, widths, strict=False)))


def _as_of(p: Progress) -> str:
    """The note line: the unit, the as-of date and the form's due date."""
    due = p.submission_due
    until = f"；“{due.stage.name}”截止{official_date(due.due)}（{days_text(due.days_left)}）" if due and due.due else ""
    unit = p.profile.office or p.profile.issuer  # 落款单位 in 填报规则 (init --office), else the notice's issuer
    unit = f"{unit}　" if unit else ""
    return f"{unit}统计截至{official_date(p.today)}{until}"


def _progress_sheet(wb: Any, fmt: dict[str, Any], p: Progress) -> None:
    header, rows = group_table(p, rates_as_text=False)
    s_header, s_rows = stage_table(p)
    s_rows = [[r[0], official_date(s.due) if s.due else r[1], *r[2:]] for r, s in zip(s_rows, p.stages, strict=True)]
    widths = [16, 15, 15, *(10 for _ in header[3:])]  # 截止日期 and 距截止 of 按阶段 below share columns 2 and 3
    s_widths = widths[:len(s_header)] + [10] * (len(s_header) - len(widths))
    ws = _sheet(wb, SHEETS[0], f"{campaign_name(p.profile)}进展情况汇总", _as_of(p), header, widths, fmt)
    for n, row in enumerate(rows, start=4):
        last = n == 3 + len(rows)
        for col, value in enumerate(row):
            rate = header[col] in ("提交率", "完成率")
            style = ("total_rate" if rate else "total") if last else ("rate" if rate else "cell")
            ws.write(n, col, "—" if value is None else value, fmt[style])
        ws.set_row(n, wrapped_height([(row[0], widths[0])]))  # the figures fit; a long 党总支 name wraps
    last_group = 3 + len(rows) - 1  # the row above 合计
    stage = p.frame.attrs.get("completion_stage")
    left = ""
    if p.withdrawn:  # a declined status on a stage takes the branch out of the stages that require it
        out_now = f"已退出“{stage}”阶段的支部不计入应参与；" if bool(p.frame[WITHDRAWN].any()) else ""
        left = (f"已退出：支部在某一阶段为{'、'.join(p.profile.statuses.declined)}的，不再参与以该阶段为前提的后续阶段，"
                f"这些阶段按“已退出”统计、不计通过；{out_now}台账中的盖章记录保留不删（见“进展明细”“问题汇总”）。")
    explain = ("说明：已提交 = 按时提交 + 逾期提交；应参与 = 名单中标为必须参与的支部（未标注时为全部支部）；"
               "提交率 = 应参与支部中已提交的 ÷ 应参与支部数；"
               f"完成率 = 应参与支部中“{stage or '—'}”阶段已办结（通过或逾期办结）的 ÷ 应参与支部数。{left}")
    explain_row = 4 + len(rows)
    ws.merge_range(explain_row, 0, explain_row, len(header) - 1, explain, fmt["explain"])
    ws.set_row(explain_row, wrapped_height([(explain, sum(widths))]))
    top = explain_row + 2
    ws.write(top, 0, "按阶段", fmt["heading"])
    ws.set_row(top, 20)
    ws.write_row(top + 1, 0, s_header, fmt["head"])
    ws.set_row(top + 1, wrapped_height(zip(s_header, s_widths, strict=True)))
    for n, row in enumerate(s_rows, start=top + 2):
        _row(ws, n, row, s_widths, fmt["cell"])
    for n, warning in enumerate(p.warnings, start=top + 3 + len(s_rows)):
        ws.merge_range(n, 0, n, len(header) - 1, f"注意：{warning}", fmt["explain"])
        ws.set_row(n, wrapped_height([(f"注意：{warning}", sum(widths))]))
    chart_row = top + 3 + len(s_rows) + len(p.warnings)
    ws.set_h_pagebreaks([chart_row])  # the charts print whole, on a page of their own
    _native_charts(wb, ws, p, (header, rows[:-1]), last_group, (top, s_header, s_rows), chart_row)


def _labels(values: Sequence[Any]) -> dict[str, Any]:
    """Data labels showing each value, none on an empty (zero) segment."""
    return {"value": True, "font": {"name": FONT}, "custom": [{"delete": True} if not v else None for v in values]}


def _native_charts(wb: Any, ws: Any, p: Progress, groups: tuple[list[str], list[list[Any]]], last_group: int,
                   stages: tuple[int, list[str], list[list[Any]]], chart_row: int) -> None:
    """Per 党总支 (报送情况) and per stage (办理情况), fed from the 总体进度 cells, titled with the date."""
    sheet, when = SHEETS[0], official_date(p.today)
    font = {"name": FONT}
    charts = []
    header, rows = groups
    shown = [s.value for s in ReportState if s.value in header]
    if rows and shown:
        by_group = wb.add_chart({"type": "bar", "subtype": "stacked"})
        for name in shown:
            col = header.index(name)
            by_group.add_series({"name": [sheet, 3, col], "categories": [sheet, 4, 0, last_group, 0],
                                 "values": [sheet, 4, col, last_group, col], "fill": {"color": COLOURS[name]},
                                 "data_labels": _labels([r[col] for r in rows])})
        by_group.set_title({"name": f"各党总支报送情况（截至{when}）", "name_font": {**font, "size": 12}})
        by_group.set_y_axis({"reverse": True, "num_font": font})
        by_group.set_x_axis({"num_font": font, "major_unit": 1})
        charts.append(by_group)
    top, s_header, s_rows = stages
    if s_rows and s_header[3:]:
        by_stage = wb.add_chart({"type": "column", "subtype": "stacked"})
        last_stage = top + 1 + len(s_rows)
        for kind in s_header[3:]:
            col = s_header.index(kind)
            by_stage.add_series({"name": [sheet, top + 1, col], "categories": [sheet, top + 2, 0, last_stage, 0],
                                 "values": [sheet, top + 2, col, last_stage, col],
                                 "fill": {"color": COLOURS[kind]},
                                 "data_labels": _labels([r[col] for r in s_rows])})
        by_stage.set_title({"name": f"各阶段办理情况（截至{when}）", "name_font": {**font, "size": 12}})
        by_stage.set_x_axis({"num_font": font})
        by_stage.set_y_axis({"num_font": font})
        charts.append(by_stage)
    for n, chart in enumerate(charts):
        chart.set_legend({"position": "bottom", "font": font})
        chart.set_size({"width": 500, "height": 340})
        ws.insert_chart(chart_row, 6 * n, chart, {"x_offset": 4, "y_offset": 4})


def _missing_sheet(wb: Any, fmt: dict[str, Any], p: Progress) -> None:
    """催报: every branch whose form has not arrived or was returned, with whom to call (the form's
    contact, else the roster's), the reason a returned form gave, and the 必须参与 ones marked."""
    stage, due = p.stage, p.submission_due
    header = ["党总支", "党支部", "报送情况", "逾期情况", "必须参与", *CONTACT_COLUMNS, "退回原因"]
    widths = [14, 22, 12, 12, 10, 10, 14, 22, 40]
    reasons = {(i.branch, i.stage): i.text for i in p.issues}
    must = f"，其中必须参与 {len(p.must_join_missing)} 个" if p.must_join_missing else ""
    ws = _sheet(wb, SHEETS[1], f"{campaign_name(p.profile)}未提交名单（催报）",
                f"{_as_of(p)}；共 {len(p.missing)} 个支部{must}", header, widths, fmt)
    frame = p.frame.set_index("党支部")
    for n, rec in enumerate(p.missing, start=4):
        row = frame.loc[rec.branch]
        state = str(row["报送情况"])
        late = f"已逾期 {rec.days_late} 天" if rec.days_late else ("未到截止" if due and due.due else "—")
        reason = reasons.get((rec.branch, stage.name), "") if stage and state == ReportState.RETURNED else ""
        values = [rec.group, rec.branch, state, late, "是" if rec.must_join else "",
                  *(_text(row[c]) for c in CONTACT_COLUMNS), "" if reason == "—" else reason]
        _row(ws, n, values, widths, fmt["cell"])
        if rec.days_late:
            ws.write(n, 3, late, fmt["late"])
        if rec.must_join:
            ws.write(n, 4, "是", fmt["late"])
    ws.autofilter(3, 0, 3 + len(p.missing), len(header) - 1)


def _detail_sheet(wb: Any, fmt: dict[str, Any], p: Progress) -> None:
    """进展明细: one row per branch, its 报送情况 and the status of every stage (未办理 when none; 已退出
    on a stage the branch has left), and when a branch has left stages, a column saying why."""
    stages = p.frame.attrs.get("stages", [])
    why = {r.branch: r.left_text() for r in p.withdrawn}
    header = ["党总支", "党支部", "必须参与", "报送情况", *stages, *([WITHDRAWN_NOTE] if why else [])]
    widths = [14, 22, 10, 12, *(12 for _ in stages), *([30] if why else [])]
    left = f"，其中 {len(why)} 个已退出部分阶段" if why else ""
    ws = _sheet(wb, SHEETS[2], f"{campaign_name(p.profile)}进展明细", f"{_as_of(p)}；共 {len(p.frame)} 个支部{left}",
                header, widths, fmt)
    for n, row in enumerate(p.frame.itertuples(index=False), start=4):
        values = dict(zip(p.frame.columns, row, strict=True))
        branch = str(values["党支部"])
        _row(ws, n, [str(values["党总支"]), branch, "是" if values["必须参与"] else "", str(values["报送情况"]),
                     *(_text(values[s]) or UNHANDLED for s in stages), *([why.get(branch, "")] if why else [])],
             widths, fmt["cell"])
    ws.autofilter(3, 0, 3 + len(p.frame), len(header) - 1)


def _text(value: Any) -> str:
    import pandas as pd

    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # a phone typed as a number
    return "" if value is None or (not isinstance(value, str) and pd.isna(value)) else str(value)


def _brand_sheet(wb: Any, fmt: dict[str, Any], snap: MasterSnapshot, p: Progress) -> None:
    text_field = next((f for f in BRAND_TEXT_FIELDS if f in p.profile.ledger.columns), None)
    header = ["品牌名称", "党支部", "党总支", "品牌标识", text_field or "品牌内涵"]
    brands = [r for r in p.records if r.values.get("品牌名称") not in (None, "")]
    ws = _sheet(wb, SHEETS[3], f"{campaign_name(p.profile)}品牌一览", f"{_as_of(p)}；共 {len(brands)} 个品牌", header,
                [16, 22, 14, 12, BRAND_TEXT_WIDTH], fmt)
    logos = _logos(snap)
    for n, rec in enumerate(brands, start=4):
        ws.write_row(n, 0, [str(rec.values["品牌名称"]), rec.branch, rec.group, ""], fmt["cell"])
        text = _text(rec.values.get(text_field)) if text_field else ""
        ws.write(n, 4, text, fmt["wrap"])
        ws.set_row(n, max(THUMB_PX * 0.75 + 8, wrapped_height([(text, BRAND_TEXT_WIDTH)])))
        logo = logos.get(rec.branch)
        if logo is not None:
            data, width, height = logo
            scale = THUMB_PX / height
            ws.insert_image(n, 3, f"{rec.branch}.png", {"image_data": io.BytesIO(data), "x_scale": scale,
                                                        "y_scale": scale, "x_offset": 4, "y_offset": 4,
                                                        "object_position": 1})


def _logos(snap: MasterSnapshot) -> dict[str, tuple[bytes, int, int]]:
    """branch -> (PNG thumbnail, width, height) of the picture in its ledger row's logo cell."""
    ledger, column = snap.ledger, snap.profile.ledger.logo_column
    if ledger is None or column is None or column not in ledger.columns:
        return {}
    from PIL import Image

    from toolkit.readers.pictures import find_pictures

    col = ledger.columns[column]
    by_row = {r.row: r.branch for r in ledger.rows}
    out: dict[str, tuple[bytes, int, int]] = {}
    for pic in find_pictures(snap.path.read_bytes(), "xlsx"):
        branch = by_row.get(pic.row)
        if pic.sheet != ledger.sheet or pic.col != col or branch is None or branch in out:
            continue
        try:
            with Image.open(io.BytesIO(pic.data)) as img:
                img.thumbnail((THUMB_PX * 4, THUMB_PX * 2))
                buf = io.BytesIO()
                img.convert("RGBA").save(buf, "PNG")
                out[branch] = (buf.getvalue(), *img.size)
        except (OSError, ValueError, Image.DecompressionBombError):
            continue  # an EMF or broken picture: the row shows without a thumbnail
    return out


def _issue_sheet(wb: Any, fmt: dict[str, Any], p: Progress) -> None:
    header = ["党总支", "党支部", "阶段", "状态", "说明"]
    widths = [16, 24, 12, 10, 70]
    ws = _sheet(wb, SHEETS[4], f"{campaign_name(p.profile)}问题汇总", f"{_as_of(p)}；共 {len(p.issues)} 条", header, widths, fmt)
    for n, issue in enumerate(p.issues, start=4):
        values = [issue.group, issue.branch or "—", issue.stage, issue.status, issue.text]
        ws.write_row(n, 0, values[:4], fmt["wrap"])
        ws.write(n, 4, issue.text, fmt["wrap"])
        ws.set_row(n, wrapped_height(zip(values, widths, strict=True)))
    ws.autofilter(3, 0, 3 + len(p.issues), len(header) - 1)


def _owed_sheet(wb: Any, fmt: dict[str, Any], p: Progress) -> None:
    """待交材料: the deliverables (reports, photos, news links) each branch still owes, with the reasons."""
    header = ["党总支", "党支部", "阶段", "材料", "情况"]
    ws = _sheet(wb, OWED_SHEET, OWED_SHEET, f"{_as_of(p)}；共 {len(p.owed)} 项", header, [16, 24, 12, 14, 70], fmt)
    for n, o in enumerate(p.owed, start=4):
        ws.write_row(n, 0, [o.group, o.branch, o.stage, o.deliverable], fmt["cell"])
        ws.write(n, 4, o.state, fmt["wrap"])
    ws.autofilter(3, 0, 3 + len(p.owed), len(header) - 1)
