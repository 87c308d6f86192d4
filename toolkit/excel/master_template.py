"""The macro-enabled master (台账.xlsm) for Excel users: a 控制台 sheet with buttons, the ledger, 操作记录,
填报规则 and a hidden `xlwings.conf` sheet, plus a VBA project holding macros/*.bas and the xlwings module
of the installed xlwings package (so the VBA side always matches the Python side).

xlsxwriter lays out the sheets and buttons; pyOpenVBA adds the VBA project (Excel code names and all);
the package's main content type is then set to the macro-enabled one, which pyOpenVBA leaves alone.
Zip timestamps and document dates are fixed, so rebuilding a template gives identical bytes.
"""

from __future__ import annotations

import datetime as dt
import io
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from toolkit.core.changeset import ChangeSet, NewSheet
from toolkit.core.printlayout import line_pt, wrapped_lines
from toolkit.core.profile import Profile
from toolkit.core.roster import ROSTER_COLUMNS, ROSTER_CONTACTS, ROSTER_SHEET, roster_heading
from toolkit.files.atomic import write_atomic
from toolkit.files.bundled import bundled

CONSOLE_SHEET = "控制台"
CONF_SHEET = "xlwings.conf"
XLWINGS_MODULES = (("xlwings", "xlwings.bas"), ("Dictionary", "addin/Dictionary.cls"))  # Dictionary: macOS
MACRO_CONTENT_TYPE = "application/vnd.ms-excel.sheet.macroEnabled.main+xml"
PLAIN_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
FIXED_TIME = dt.datetime(2024, 1, 1)
ZIP_TIME = (2024, 1, 1, 0, 0, 0)

# 控制台: labels in column A, the officer's choices in column B (found by label, so rows may move).
INBOX, STAGE, STATUS, OPERATOR, SUMMARY_FILE = "收件箱文件夹", "盖章阶段", "盖章状态", "操作人", "汇总文件"
ACCEPT, YES, NO = "接受警告", "是", "否"
RESULT, DETAILS = "运行结果", "明细"


@dataclass(frozen=True)
class Button:
    caption: str
    sub: str  # the Sub in macros/BrandKit.bas
    entry: str  # the function in toolkit.xl it runs
    help: str


BUTTONS = (
    Button("校验收件箱", "BrandKitValidate", "validate_inbox", "校验收件箱文件夹中的全部申报表，结果列在下方明细"),
    Button("合并收件箱", "BrandKitMerge", "merge_inbox", "把通过校验的申报表合并进台账（含品牌标识），并记入操作记录"),
    Button("盖章（选中行）", "BrandKitStamp", "stamp_selection", "在台账表中选中支部所在行，再点该表第一行右侧的同名按钮，按下方阶段和状态盖章"),
    Button("生成汇总", "BrandKitSummary", "make_summary", "生成给领导看的汇总表（进度、未提交名单、品牌一览）"),
)
SETTINGS = (
    (INBOX, "存放各支部申报表的文件夹（把邮件附件都保存到这里），如 D:\\品牌创建\\收件箱"),
    (ACCEPT, "选“是”：有警告（如“内容雷同”“品牌名称重复”）的申报表也合并；选“否”：只合并没有警告的"),
    (STAGE, "盖章按钮使用的阶段（下拉选择）"),
    (STATUS, "盖章按钮使用的状态（下拉选择；只列出所选阶段的状态，换了阶段请重选）"),
    (OPERATOR, "写入操作记录的姓名；留空则用电脑登录名"),
    (SUMMARY_FILE, "汇总表保存位置；留空则保存在台账旁：<台账名>_汇总.xlsx"),
)
EXCEL_NOTE = "在 Excel 中：先完成第 1 步，再点第 2 步的按钮；每次的结果写在下方“运行结果”和“明细”。"
WPS_NOTE = ("在 WPS 表格中这些按钮不能用（WPS 不运行 xlwings 宏）：请改用命令行 brandkit（如 brandkit validate、"
            "brandkit merge），或运行 brandkit serve 后在浏览器中打开它给出的本机网页。")
ROSTER_STEP = "第 1 步"
ROSTER_HINT = "点此打开“{sheet}”工作表，把支部名单粘贴进去（每行一个支部，按表头填写）"
BUTTON_STEP = "第 2 步"
STEP_ROW, BUTTON_ROW = 3, 4  # 0-based rows: the roster step, then the buttons with their help below
SETTINGS_ROW = 8  # first settings row (0-based)
RESULT_ROW = SETTINGS_ROW + len(SETTINGS) + 1
DETAILS_ROW = RESULT_ROW + 2
LABEL_WIDTH, BUTTON_WIDTH = 14, 26  # column A; columns B.. (one per button)
BUTTON_MARGIN_PX, BUTTON_HEIGHT_PX = 6, 40
STAMP_BUTTON = 2  # BUTTONS[2], the stamp button: also on the ledger, where the officer selects the rows
LISTS_COL = 2 + len(BUTTONS)  # hidden columns holding the stages and each stage's statuses
STAGE_LIST = "盖章阶段列表"
STATUS_LIST = "盖章状态_"  # + the stage's number (1-based) in STAGE_LIST
# Written only where the officer has set nothing: these keep xlwings quiet and off the UDF server.
# An empty Interpreter key here would hide the officer's own xlwings.conf, so none is written.
CONF_ROWS = (("USE UDF SERVER", False), ("SHOW CONSOLE", False))


def statuses_of(profile: Profile) -> list[str]:
    """Every status any stage allows, in stage order, once each."""
    return list(dict.fromkeys(s for stage in profile.stages for s in stage.statuses))


def default_stamp(profile: Profile) -> tuple[str, str]:
    """The stage and status preset on 控制台: the stage after the form's own (merge stamps that one),
    with its first passing status."""
    stages = list(profile.stages)
    after = stages.index(profile.submission_stage) + 1
    stage = stages[after] if after < len(stages) else stages[-1]
    status = next((s for s in stage.statuses if s in profile.statuses.passed), stage.statuses[0])
    return stage.name, status


def module_sources() -> dict[str, str]:
    """Module name -> source of every module the template's VBA project holds: macros/*.bas, then the
    xlwings modules read from the installed package at build time."""
    import xlwings

    package = Path(xlwings.__file__).parent
    macros = sorted((m for m in bundled("macros").iterdir() if m.name.endswith(".bas")), key=lambda m: m.name)
    sources = {m.name.removesuffix(".bas"): m.read_text(encoding="ascii") for m in macros}
    for name, rel in XLWINGS_MODULES:
        sources[name] = (package / rel).read_text(encoding="utf-8")
    return sources


def build_master_template(profile: Profile) -> bytes:
    """The 台账.xlsm bytes for `profile`."""
    sheets = _assign_macro(_sheets(profile), BUTTONS[STAMP_BUTTON].sub)
    with tempfile.TemporaryDirectory(prefix="brandkit-xlsm-") as tmp:
        path = Path(tmp) / "台账.xlsm"
        path.write_bytes(sheets)
        _add_vba(path)
        return stable_package(path.read_bytes(), macro=True)


def write_master_template(profile: Profile, path: Path) -> Path:
    """Write the macro-enabled master for `profile` to `path` (atomically)."""
    path = Path(path)
    if path.suffix.lower() != ".xlsm":
        from toolkit.core.errors import UsageProblem

        raise UsageProblem(f"带按钮的台账必须保存为 .xlsm 文件（收到：{path.name}），否则 Excel 会删除其中的宏")
    path.parent.mkdir(parents=True, exist_ok=True)
    return write_atomic(path, build_master_template(profile))


# -- sheets (xlsxwriter) -------------------------------------------------------------------------------

def _sheets(profile: Profile) -> bytes:
    import xlsxwriter

    from toolkit.core.adoption import plan_adoption
    from toolkit.core.master import MasterSnapshot
    from toolkit.excel.master_template import write_new_sheets

    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False})
    wb.set_properties({"title": f"{profile.title}台账", "comments": "由 brandkit 生成", "created": FIXED_TIME})
    _console(wb, profile)
    _roster_sheet(wb, profile)
    changes, _ = plan_adoption(MasterSnapshot(Path("台账.xlsm"), profile, [], None, None), [], "", FIXED_TIME)
    changes.writes.clear()  # the 初始化 log row belongs to the office's own copy, not to the template
    write_new_sheets(wb, changes)
    _ledger_button(wb, profile, changes)
    conf = wb.add_worksheet(CONF_SHEET)
    for r, (key, value) in enumerate(CONF_ROWS):
        conf.write(r, 0, key)
        conf.write_boolean(r, 1, value)
    conf.hide()
    wb.close()
    return buf.getvalue()


def column_px(width: float) -> int:
    """A column's width on screen at 100 % zoom (Calibri 11: 7 px a character plus 5 px of padding)."""
    return int(width * 7 + 5)


def _console(wb, profile: Profile) -> None:  # wb: xlsxwriter.Workbook
    ws = wb.add_worksheet(CONSOLE_SHEET)
    ws.activate()
    last = len(BUTTONS)
    title = wb.add_format({"bold": True, "font_size": 16})
    note = wb.add_format({"font_color": "#595959", "text_wrap": True, "valign": "top"})
    warn = wb.add_format({"font_color": "#9C5700", "bg_color": "#FFEB9C", "text_wrap": True, "valign": "vcenter"})
    step = wb.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "valign": "vcenter"})
    link = wb.add_format({"font_color": "#0563C1", "underline": 1, "text_wrap": True, "valign": "vcenter", "border": 1})
    label = wb.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "valign": "vcenter"})
    value = wb.add_format({"border": 1, "bg_color": "#FFF2CC", "locked": False, "valign": "vcenter"})
    hint_format = wb.add_format({"font_color": "#595959", "text_wrap": True, "valign": "vcenter"})
    result = wb.add_format({"border": 1, "text_wrap": True, "valign": "top", "bg_color": "#F2F2F2"})
    ws.set_column(0, 0, LABEL_WIDTH)
    ws.set_column(1, last, BUTTON_WIDTH)
    ws.write(0, 0, f"{profile.title} 台账控制台", title)
    ws.set_row(0, 24)
    ws.merge_range(1, 0, 1, last, EXCEL_NOTE, note)
    ws.merge_range(2, 0, 2, last, WPS_NOTE, warn)
    ws.set_row(2, 32)
    ws.write(STEP_ROW, 0, ROSTER_STEP, step)
    ws.merge_range(STEP_ROW, 1, STEP_ROW, last, "", link)
    ws.write_url(STEP_ROW, 1, f"internal:'{ROSTER_SHEET}'!A1", link, ROSTER_HINT.format(sheet=ROSTER_SHEET))
    ws.set_row(STEP_ROW, 32)
    ws.write(BUTTON_ROW, 0, BUTTON_STEP, step)
    # Each button sits inside a column of its own, so none can overlap another at 100 % zoom.
    for n, button in enumerate(BUTTONS, start=1):
        ws.insert_button(BUTTON_ROW, n, {"macro": button.sub, "caption": button.caption,
                                         "width": column_px(BUTTON_WIDTH) - 2 * BUTTON_MARGIN_PX,
                                         "height": BUTTON_HEIGHT_PX, "x_offset": BUTTON_MARGIN_PX, "y_offset": 4})
        ws.write(BUTTON_ROW + 1, n, button.help, note)
    ws.set_row(BUTTON_ROW, (BUTTON_HEIGHT_PX + 8) * 0.75)
    ws.set_row(BUTTON_ROW + 1, 48)
    ws.write(SETTINGS_ROW - 1, 0, "设置", title)
    ws.set_row(SETTINGS_ROW - 1, 24)
    stage, status = default_stamp(profile)
    presets = {STAGE: stage, STATUS: status, ACCEPT: NO}
    for r, (name, hint) in enumerate(SETTINGS, start=SETTINGS_ROW):
        ws.write(r, 0, name, label)
        ws.write(r, 1, presets.get(name, ""), value)
        ws.merge_range(r, 2, r, last, hint, hint_format)
        ws.set_row(r, max(15.0, wrapped_lines(hint, BUTTON_WIDTH * (last - 1), 11) * line_pt(11)))
    stage_cell = f"$B${SETTINGS_ROW + 1 + [n for n, _ in SETTINGS].index(STAGE)}"
    sources = {STAGE: f"={STAGE_LIST}", ACCEPT: [NO, YES],
               STATUS: f'=INDIRECT("{STATUS_LIST}"&MATCH({stage_cell},{STAGE_LIST},0))'}
    for r, (name, _) in enumerate(SETTINGS, start=SETTINGS_ROW):
        if name in sources:
            ws.data_validation(r, 1, r, 1, {"validate": "list", "source": sources[name],
                                            "error_title": "请从列表中选择",
                                            "error_message": f"{name}只能从下拉列表中选择"})
    _stage_lists(wb, ws, profile)
    ws.write(RESULT_ROW, 0, RESULT, label)
    ws.merge_range(RESULT_ROW, 1, RESULT_ROW, last, "", result)
    ws.set_row(RESULT_ROW, 48)
    ws.write(DETAILS_ROW, 0, DETAILS, label)
    ws.write(DETAILS_ROW, 1, "说明", label)
    ws.set_landscape()
    ws.set_paper(9)
    ws.fit_to_pages(1, 0)
    ws.print_area(0, 0, DETAILS_ROW + 1, last)


def _ledger_button(wb, profile: Profile, changes: ChangeSet) -> None:  # wb: xlsxwriter.Workbook
    """The stamp button again on the ledger, in the frozen header row right of the last column: Excel's
    selection is the active sheet's, so the rows must be selected, and the button clicked, on the ledger.
    A shape with a macro rather than a form button (_assign_macro binds it), so 控制台 keeps the only
    form buttons."""
    header = next(s.rows[0] for s in changes.new_sheets if s.name == profile.ledger.sheet)
    ws = wb.get_worksheet_by_name(profile.ledger.sheet)
    button = BUTTONS[STAMP_BUTTON]
    ws.set_column(len(header), len(header), BUTTON_WIDTH)
    ws.insert_textbox(0, len(header), button.caption, {
        "width": column_px(BUTTON_WIDTH) - 2 * BUTTON_MARGIN_PX, "height": BUTTON_HEIGHT_PX,
        "x_offset": BUTTON_MARGIN_PX, "y_offset": 4, "object_position": 3, "description": button.help,
        "fill": {"color": "#DDEBF7"}, "line": {"color": "#5B9BD5"}, "font": {"bold": True},
        "align": {"vertical": "middle", "horizontal": "center"}})


def _assign_macro(package: bytes, sub: str) -> bytes:
    """Bind the package's shapes (only the ledger's stamp button has one) to `sub`: xlsxwriter writes every
    shape with an empty macro."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(package)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            body = src.read(info)
            if info.filename.startswith("xl/drawings/drawing"):
                body = body.replace(b'<xdr:sp macro=""', f'<xdr:sp macro="[0]!{sub}"'.encode())
            dst.writestr(info, body)
    return out.getvalue()


def _stage_lists(wb, ws, profile: Profile) -> None:  # wb, ws: xlsxwriter's Workbook and Worksheet
    """The stages (STAGE_LIST) and each stage's statuses (STATUS_LIST + n) in hidden columns: the status
    drop-down looks up the chosen stage's list by INDIRECT, as Excel and WPS both do for dependent lists."""
    from toolkit.core.model import col_letter

    stages = list(profile.stages)
    sheet = f"'{CONSOLE_SHEET}'"
    first = LISTS_COL
    for r, stage in enumerate(stages):
        ws.write(r, first, stage.name)
    wb.define_name(STAGE_LIST, f"={sheet}!${col_letter(first)}$1:${col_letter(first)}${len(stages)}")
    for n, stage in enumerate(stages, start=1):
        col = col_letter(first + n)
        for r, status in enumerate(stage.statuses):
            ws.write(r, first + n, status)
        wb.define_name(f"{STATUS_LIST}{n}", f"={sheet}!${col}$1:${col}${len(stage.statuses)}")
    ws.set_column(first, first + len(stages), None, None, {"hidden": True})


def _roster_sheet(wb, profile: Profile) -> None:  # wb: xlsxwriter.Workbook
    """An empty 支部名单 under the headings brandkit reads, for the office to paste its list into."""
    head = wb.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})
    ws = wb.add_worksheet(ROSTER_SHEET)
    for c, name in enumerate((*ROSTER_COLUMNS, *ROSTER_CONTACTS)):
        ws.write(0, c, roster_heading(name, profile), head)
        ws.set_column(c, c, 24 if name in ("党总支", "党支部名称", "类别", "邮箱") else 12)
    ws.freeze_panes(1, 0)


# -- VBA project (pyOpenVBA) ---------------------------------------------------------------------------

def _add_vba(path: Path) -> None:
    from pyopenvba import ExcelFile
    from pyopenvba.vba import VBAModuleKind

    with ExcelFile(path) as book:
        project = book.add_vba_project()
        for name, source in module_sources().items():
            kind = VBAModuleKind.other if source.startswith("VERSION") else VBAModuleKind.standard
            project.add_module(name, source, kind=kind)
        book.save()


def stable_package(data: bytes, macro: bool = False) -> bytes:
    """The package with every member's timestamp and the document dates fixed, so the same template
    always has the same bytes; `macro` sets the macro-enabled main content type."""
    import re

    out = io.BytesIO()
    fixed = FIXED_TIME.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            body = src.read(info)
            if info.filename == "[Content_Types].xml" and macro:
                body = body.replace(PLAIN_CONTENT_TYPE.encode(), MACRO_CONTENT_TYPE.encode())
            elif info.filename == "docProps/core.xml":
                body = re.sub(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*", rb"\g<1>" + fixed, body)
            dst.writestr(zipfile.ZipInfo(info.filename, ZIP_TIME), body, zipfile.ZIP_DEFLATED)
    return out.getvalue()


# The committed templates of a campaign whose notice prints no year are built for this one, so they do
# not change with the calendar (an office's own master gets its year from `brandkit init --year`).
TEMPLATE_YEAR = 2025


def committed_profile(name: str) -> Profile:
    """The built-in profile the committed workbook_templates/<name>/ are built from."""
    from toolkit.core.campaign import resolve
    from toolkit.core.profile import load_profile

    profile = load_profile(name)
    return profile if profile.notice_year else resolve(profile, TEMPLATE_YEAR)


def template_files(profile: Profile) -> dict[str, bytes]:
    """workbook_templates/<profile>/: the branch form and the macro-enabled master, byte-stable."""
    from toolkit.files.templates import build_form

    return {"申报表.xlsx": stable_package(build_form(profile)), "台账.xlsm": build_master_template(profile)}


def write_new_sheets(wb: Any, changes: ChangeSet) -> None:
    """Render `changes.new_sheets` (and the writes that land on them) into an xlsxwriter workbook;
    shared by a new .xlsx master and the macro-enabled master template."""
    head = wb.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True,
                          "align": "center", "valign": "vcenter"})
    body = wb.add_format({"border": 1, "text_wrap": True, "valign": "top"})
    column = wb.add_format({"text_wrap": True, "valign": "top"})  # what a merge's new cells start from
    day = wb.add_format({"border": 1, "valign": "top", "num_format": "yyyy-mm-dd"})  # 填报规则's stage dates
    logged = {(w.sheet, w.row, w.col): w.value for w in changes.writes}
    for sheet in changes.new_sheets:
        ws = wb.add_worksheet(sheet.name)
        for c, width in enumerate(sheet.widths):
            ws.set_column(c, c, width, column if sheet.printed else None)
        if sheet.printed:
            print_as_list(ws, sheet)
        for r, row in enumerate(sheet.rows):
            for c, value in enumerate(row):
                ws.write(r, c, value, head if r == 0 else day if isinstance(value, dt.date) else body)
        for (name, r, c), value in logged.items():
            if name == sheet.name:
                ws.write(r, c, value, body)
        ws.freeze_panes(1, 0)
        if sheet.hidden:
            ws.hide()
        if sheet.protected:
            ws.protect()


def print_as_list(ws: Any, sheet: NewSheet) -> None:
    """xlsxwriter: even rows, an auto-filter on the header and A4 landscape one page wide (its print
    columns), the header on every page, page numbers in the footer (see NewSheet.printed)."""
    if sheet.row_height:
        ws.set_default_row(sheet.row_height)
    if sheet.header_height:
        ws.set_row(0, sheet.header_height)
    width = len(sheet.rows[0]) if sheet.rows else len(sheet.widths)
    ws.autofilter(0, 0, max(len(sheet.rows) - 1, 1), max(width - 1, 0))
    if sheet.print_columns:
        ws.print_area(0, 0, ws.xls_rowmax - 1, sheet.print_columns - 1)  # whole columns: $A:$S
    ws.set_paper(9)  # A4
    ws.set_landscape()
    ws.fit_to_pages(1, 0)
    ws.repeat_rows(0)
    ws.set_margins(left=0.4, right=0.4, top=0.6, bottom=0.6)
    ws.set_footer("&C第 &P 页，共 &N 页")
