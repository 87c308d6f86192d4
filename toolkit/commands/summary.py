"""`brandkit summary`: a workbook for leaders (xlsxwriter) and, on request, the charts as PNG (matplotlib).

Sheets: 总体进度 (per 党总支 and per stage, with native charts), 未提交名单 (催报), 品牌一览 (with logo
thumbnails), 问题汇总. Every figure comes from `status.progress`, the same count the terminal shows,
so the two can never disagree. Every sheet prints on A4 with its header row repeated.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from toolkit.commands.status import Progress, contact, group_table, progress, read_log, stage_table
from toolkit.core.display import wrapped_height
from toolkit.core.errors import UsageProblem
from toolkit.core.master import MasterSnapshot
from toolkit.core.vocabulary import KIND_ZH, NOT_SUBMITTED, Receipt
from toolkit.files.atomic import replace

SHEETS = ("总体进度", "未提交名单", "品牌一览", "问题汇总")
# CJK fonts matplotlib may find, best first; any other installed font covering the text is the fallback.
CJK_FONTS = ("Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Micro Hei", "WenQuanYi Zen Hei",
             "Microsoft YaHei", "SimHei", "PingFang SC", "Noto Sans SC")
THUMB_PX = 64  # logo thumbnail height in 品牌一览
BRAND_TEXT_WIDTH = 70.0
BRAND_TEXT_FIELDS = ("品牌内涵", "品牌简介", "特色简介")
KIND_COLOURS = {**dict(zip(KIND_ZH.values(), ("#70AD47", "#FFC000", "#C00000", "#ED7D31"), strict=True)),
                "未盖章": "#BFBFBF", Receipt.SUBMITTED: "#4472C4", NOT_SUBMITTED: "#BFBFBF"}


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
    """`brandkit summary MASTER -o 汇总.xlsx [--png DIR]`."""
    from toolkit.files.masterfile import load_master

    snap = load_master(master, profile_name)
    return write_summary(snap, out, png_dir, today=today, log_rows=read_log(snap))


def write_summary(snap: MasterSnapshot, out_path: Path, png_dir: Path | None = None,
                  today: dt.date | None = None, log_rows: list[list[Any]] | None = None) -> SummaryResult:
    if out_path.resolve() == snap.path.resolve():
        raise UsageProblem(f"汇总表不能写到台账 {snap.path.name} 本身，请用 -o 指定另一个文件名")
    if out_path.suffix.lower() != ".xlsx":
        raise UsageProblem(f"汇总表应保存为 .xlsx 文件（收到：{out_path.name}）")
    p = progress(snap, today or dt.date.today(), log_rows)
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

def _write_workbook(snap: MasterSnapshot, p: Progress, path: Path) -> None:
    import xlsxwriter

    wb = xlsxwriter.Workbook(str(path), {"strings_to_formulas": False, "strings_to_urls": False,
                                         "strings_to_numbers": False})
    wb.set_properties({"title": f"{p.profile.title}汇总", "comments": "由 brandkit 生成"})
    fmt = _formats(wb)
    _progress_sheet(wb, fmt, p)
    _missing_sheet(wb, fmt, p)
    _brand_sheet(wb, fmt, snap, p)
    _issue_sheet(wb, fmt, p)
    if p.profile.deliverables:
        _owed_sheet(wb, fmt, p)
    wb.close()


TITLE_PT = 16
TITLE_ROW_PT = wrapped_height([], TITLE_PT)  # a row for one line of the title


def _formats(wb: Any) -> dict[str, Any]:
    base = {"font_name": "宋体", "font_size": 11, "valign": "vcenter"}
    return {
        "title": wb.add_format({**base, "bold": True, "font_size": TITLE_PT}),
        "note": wb.add_format({**base, "font_color": "#595959"}),
        "head": wb.add_format({**base, "bold": True, "bg_color": "#DDEBF7", "border": 1, "align": "center",
                               "text_wrap": True}),
        "cell": wb.add_format({**base, "border": 1}),
        "wrap": wb.add_format({**base, "border": 1, "text_wrap": True, "valign": "top"}),
        "total": wb.add_format({**base, "border": 1, "bold": True, "bg_color": "#F2F2F2"}),
        "late": wb.add_format({**base, "border": 1, "font_color": "#C00000", "bold": True}),
    }


def _sheet(wb: Any, name: str, title: str, note: str, header: list[str], widths: Sequence[float],
           fmt: dict[str, Any], landscape: bool = True) -> Any:
    """A sheet with a title, a note line and a frozen header row (row 3), set up to print on A4."""
    ws = wb.add_worksheet(name)
    ws.write(0, 0, title, fmt["title"])
    ws.set_row(0, TITLE_ROW_PT)
    ws.write(1, 0, note, fmt["note"])
    ws.write_row(3, 0, header, fmt["head"])
    ws.set_row(3, wrapped_height(zip(header, widths, strict=False)))
    for col, width in enumerate(widths):
        ws.set_column(col, col, width)
    ws.freeze_panes(4, 0)
    ws.set_paper(9)  # A4
    if landscape:
        ws.set_landscape()
    ws.fit_to_pages(1, 0)
    ws.repeat_rows(3)
    ws.set_margins(left=0.5, right=0.5, top=0.7, bottom=0.7)
    ws.set_footer("&C第 &P 页，共 &N 页")
    return ws


def _as_of(p: Progress) -> str:
    nxt = p.next_due
    due = f"；下一个截止：“{nxt.stage.name}” {nxt.due}（还有 {nxt.days_left} 天）" if nxt else ""
    return f"统计日期：{p.today.isoformat()}{due}"


def _progress_sheet(wb: Any, fmt: dict[str, Any], p: Progress) -> None:
    header, rows = group_table(p)
    ws = _sheet(wb, SHEETS[0], f"{p.profile.title}进度汇总", _as_of(p), header,
                [16, 11] + [9] * (len(header) - 2), fmt)
    for n, row in enumerate(rows, start=4):
        ws.write_row(n, 0, row, fmt["total"] if n == 3 + len(rows) else fmt["cell"])
    last_group = 3 + len(rows) - 1  # the row above 合计
    s_header, s_rows = stage_table(p)
    top = 4 + len(rows) + 1
    ws.write(top, 0, "按阶段", fmt["title"])
    ws.set_row(top, TITLE_ROW_PT)
    ws.write_row(top + 1, 0, s_header, fmt["head"])
    ws.set_row(top + 1, wrapped_height(zip(s_header, [16, 11] + [9] * (len(header) - 2), strict=False)))
    for n, row in enumerate(s_rows, start=top + 2):
        ws.write_row(n, 0, row, fmt["cell"])
    for n, warning in enumerate(p.warnings, start=top + 3 + len(s_rows)):
        ws.write(n, 0, f"注意：{warning}", fmt["late"])
    chart_row = top + 3 + len(s_rows) + len(p.warnings)
    sheet = SHEETS[0]
    charts = []
    if p.groups:
        by_group = wb.add_chart({"type": "bar", "subtype": "stacked"})
        for name in (Receipt.SUBMITTED, NOT_SUBMITTED):
            col = header.index(name)
            by_group.add_series({"name": [sheet, 3, col], "categories": [sheet, 4, 0, last_group, 0],
                                 "values": [sheet, 4, col, last_group, col],
                                 "fill": {"color": KIND_COLOURS[name]}, "data_labels": {"value": True}})
        by_group.set_title({"name": "各党总支提交进度"})
        by_group.set_y_axis({"reverse": True})
        charts.append(by_group)
    if s_rows:
        by_stage = wb.add_chart({"type": "column", "subtype": "stacked"})
        last_stage = top + 1 + len(s_rows)
        for name in (*KIND_ZH.values(), "未盖章"):
            col = s_header.index(name)
            by_stage.add_series({"name": [sheet, top + 1, col], "categories": [sheet, top + 2, 0, last_stage, 0],
                                 "values": [sheet, top + 2, col, last_stage, col],
                                 "fill": {"color": KIND_COLOURS[name]}})
        by_stage.set_title({"name": "各阶段进展"})
        charts.append(by_stage)
    for n, chart in enumerate(charts):
        chart.set_legend({"position": "bottom"})
        chart.set_size({"width": 520, "height": 300})
        ws.insert_chart(chart_row, 7 * n, chart)


def _missing_sheet(wb: Any, fmt: dict[str, Any], p: Progress) -> None:
    """催报: every branch whose form (the submission stage's) has not arrived or was returned, with whom to
    call (the form's contact, else the roster's) and the 必须参与 ones marked."""
    stage, due = p.stage, p.submission_due
    header = ["党总支", "党支部", "填表人", "联系方式", "状态", "逾期天数", "必须参与"]
    until = f"（截止 {due.due}）" if due and due.due else ""
    must = f"，其中必须参与 {len(p.must_join_missing)} 个" if p.must_join_missing else ""
    ws = _sheet(wb, SHEETS[1], f"“{stage.name if stage else ''}”未提交名单（催报）",
                f"{_as_of(p)}；共 {len(p.missing)} 个支部{until}{must}", header, [16, 24, 10, 16, 22, 10, 10], fmt,
                landscape=False)
    for n, rec in enumerate(p.missing, start=4):
        state = rec.statuses.get(stage.name) if stage else None
        shown = rec.values.get(stage.column) if stage and state else NOT_SUBMITTED
        ws.write_row(n, 0, [rec.group, rec.branch, *contact(rec), str(shown)], fmt["cell"])
        ws.write_number(n, 5, rec.days_late, fmt["late"] if rec.days_late else fmt["cell"])
        ws.write(n, 6, "是" if rec.must_join else "", fmt["late"] if rec.must_join else fmt["cell"])
    ws.autofilter(3, 0, 3 + len(p.missing), len(header) - 1)


def _text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # a phone typed as a number
    return "" if value is None else str(value)


def _brand_sheet(wb: Any, fmt: dict[str, Any], snap: MasterSnapshot, p: Progress) -> None:
    text_field = next((f for f in BRAND_TEXT_FIELDS if f in p.profile.ledger.columns), None)
    header = ["品牌名称", "党支部", "党总支", "品牌标识", text_field or "品牌内涵"]
    brands = [r for r in p.records if r.values.get("品牌名称") not in (None, "")]
    ws = _sheet(wb, SHEETS[2], f"{p.profile.title}品牌一览", f"共 {len(brands)} 个品牌", header,
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
    ws = _sheet(wb, SHEETS[3], "问题汇总", f"{_as_of(p)}；共 {len(p.issues)} 条", header, widths, fmt)
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


# -- PNG charts ----------------------------------------------------------------------------------------

def cjk_font() -> str:
    """Path of an installed font with Chinese glyphs, so charts show text instead of tofu boxes."""
    from matplotlib import font_manager

    fonts = font_manager.fontManager.ttflist
    for family in CJK_FONTS:
        for f in fonts:
            if f.name == family:
                return f.fname
    for f in fonts:
        if _covers(f.fname, "党支部总进度"):
            return f.fname
    raise UsageProblem("没有找到中文字体，图表中的汉字会显示为方框。请安装中文字体（如 fonts-noto-cjk：sudo apt-get "
                       "install fonts-noto-cjk，或运行 make），再生成 PNG 图表")


def _covers(font_file: str, text: str) -> bool:
    from matplotlib.ft2font import FT2Font

    try:
        face = FT2Font(font_file)
    except (OSError, RuntimeError):
        return False
    return all(face.get_char_index(ord(ch)) for ch in text if not ch.isspace())


def write_png_charts(p: Progress, out_dir: Path) -> tuple[list[Path], str]:
    """The two charts of 总体进度 as PNG (for slides). Returns the files and the font file used."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib import font_manager
    from matplotlib.ticker import MaxNLocator

    font_file = cjk_font()
    font = font_manager.FontProperties(fname=font_file)
    out_dir.mkdir(parents=True, exist_ok=True)
    groups = list(p.groups)
    stages = [s.stage.name for s in p.stages]
    charts = [
        ("各党总支提交进度", "党总支进度.png", groups, {
            Receipt.SUBMITTED: [p.groups[g].submitted for g in groups],
            NOT_SUBMITTED: [p.groups[g].missing for g in groups]}),
        ("各阶段进展", "阶段进展.png", stages, {
            **{zh: [s.counts[k] for s in p.stages] for k, zh in KIND_ZH.items()},
            "未盖章": [s.counts["unstamped"] for s in p.stages]}),
    ]
    paths = []
    for title, name, labels, series in charts:
        fig, ax = plt.subplots(figsize=(8, 4.5), dpi=150)
        bottom = [0] * len(labels)
        for label, values in series.items():
            ax.bar(labels, values, bottom=bottom, label=label, color=KIND_COLOURS[label])
            bottom = [a + b for a, b in zip(bottom, values, strict=True)]
        ax.set_title(title, fontproperties=font, fontsize=14)
        ax.set_ylabel("支部数", fontproperties=font)
        ax.set_xticks(range(len(labels)), labels, fontproperties=font)
        locator = ax.yaxis.get_major_locator()
        if isinstance(locator, MaxNLocator):  # the default AutoLocator is one
            locator.set_params(integer=True)
        ax.legend(prop=font, loc="upper left", bbox_to_anchor=(1.01, 1.0))
        fig.tight_layout()
        path = out_dir / name
        fig.savefig(path)
        plt.close(fig)
        paths.append(path)
    return paths, font_file
