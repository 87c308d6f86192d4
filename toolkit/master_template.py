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

from toolkit.atomic import write_atomic
from toolkit.bundled import bundled
from toolkit.profile import Profile

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
    Button("盖章（选中行）", "BrandKitStamp", "stamp_selection", "先在台账中选中支部所在行，再点此按钮，按下方阶段和状态盖章"),
    Button("生成汇总", "BrandKitSummary", "make_summary", "生成给领导看的汇总表（进度、未提交名单、品牌一览）"),
)
SETTINGS = (
    (INBOX, "申报表所在文件夹，如 D:\\品牌创建\\收件箱（brandkit intake 的输出文件夹）"),
    (ACCEPT, "选“是”时，有“内容雷同”“品牌名称重复”警告的申报表也合并（相当于命令行 --accept-warnings）"),
    (STAGE, "盖章按钮使用的阶段（下拉选择）"),
    (STATUS, "盖章按钮使用的状态（下拉选择）"),
    (OPERATOR, "写入操作记录的姓名；留空则用电脑登录名"),
    (SUMMARY_FILE, "汇总表保存位置；留空则保存在台账旁：<台账名>_汇总.xlsx"),
)
SETTINGS_ROW = 8  # first settings row (0-based)
RESULT_ROW = SETTINGS_ROW + len(SETTINGS) + 1
DETAILS_ROW = RESULT_ROW + 2
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
    sheets = _sheets(profile)
    with tempfile.TemporaryDirectory(prefix="brandkit-xlsm-") as tmp:
        path = Path(tmp) / "台账.xlsm"
        path.write_bytes(sheets)
        _add_vba(path)
        return stable_package(path.read_bytes(), macro=True)


def write_master_template(profile: Profile, path: Path) -> Path:
    """Write the macro-enabled master for `profile` to `path` (atomically)."""
    path = Path(path)
    if path.suffix.lower() != ".xlsm":
        from toolkit.errors import UsageProblem

        raise UsageProblem(f"带按钮的台账必须保存为 .xlsm 文件（收到：{path.name}），否则 Excel 会删除其中的宏")
    path.parent.mkdir(parents=True, exist_ok=True)
    return write_atomic(path, build_master_template(profile))


# -- sheets (xlsxwriter) -------------------------------------------------------------------------------

def _sheets(profile: Profile) -> bytes:
    import xlsxwriter

    from toolkit.ledger import MasterSnapshot
    from toolkit.masters import plan_adoption, write_new_sheets

    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False})
    wb.set_properties({"title": f"{profile.title}台账", "comments": "由 brandkit 生成", "created": FIXED_TIME})
    _console(wb, profile)
    changes, _ = plan_adoption(MasterSnapshot(Path("台账.xlsm"), profile, [], None, None), [], "", FIXED_TIME)
    changes.writes.clear()  # the 初始化 log row belongs to the office's own copy, not to the template
    write_new_sheets(wb, changes)
    conf = wb.add_worksheet(CONF_SHEET)
    for r, (key, value) in enumerate(CONF_ROWS):
        conf.write(r, 0, key)
        conf.write_boolean(r, 1, value)
    conf.hide()
    wb.close()
    return buf.getvalue()


def _console(wb, profile: Profile) -> None:  # wb: xlsxwriter.Workbook
    ws = wb.add_worksheet(CONSOLE_SHEET)
    ws.activate()
    title = wb.add_format({"bold": True, "font_size": 16})
    note = wb.add_format({"font_color": "#595959", "text_wrap": True, "valign": "top"})
    label = wb.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})
    value = wb.add_format({"border": 1, "bg_color": "#FFF2CC", "locked": False})
    result = wb.add_format({"border": 1, "text_wrap": True, "valign": "top", "bg_color": "#F2F2F2"})
    ws.set_column(0, 0, 16)
    ws.set_column(1, 1, 40)
    ws.set_column(2, 3, 40)
    ws.write(0, 0, f"{profile.title} 台账控制台", title)
    ws.merge_range(1, 0, 1, 3, "点按钮即可运行，结果写在下方“运行结果”和“明细”。按钮需要 Excel（Windows 或 macOS）并已安装 "
                   "brandkit；WPS 没有 xlwings，请使用命令行 brandkit。", note)
    ws.set_row(1, 32)
    for n, button in enumerate(BUTTONS):
        ws.insert_button(3, n, {"macro": button.sub, "caption": button.caption, "width": 150, "height": 40,
                                "x_offset": 4, "y_offset": 2})
        ws.write(5, n, button.help, note)
    ws.set_row(3, 34)
    ws.set_row(5, 48)
    ws.write(SETTINGS_ROW - 1, 0, "设置", title)
    stage, status = default_stamp(profile)
    presets = {STAGE: stage, STATUS: status, ACCEPT: NO}
    for r, (name, hint) in enumerate(SETTINGS, start=SETTINGS_ROW):
        ws.write(r, 0, name, label)
        ws.write(r, 1, presets.get(name, ""), value)
        ws.write(r, 2, hint, note)
    lists = {STAGE: [s.name for s in profile.stages], STATUS: statuses_of(profile), ACCEPT: [NO, YES]}
    for r, (name, _) in enumerate(SETTINGS, start=SETTINGS_ROW):
        if name in lists:
            ws.data_validation(r, 1, r, 1, {"validate": "list", "source": lists[name],
                                            "error_title": "请从列表中选择",
                                            "error_message": f"{name}只能从下拉列表中选择"})
    ws.write(RESULT_ROW, 0, RESULT, label)
    ws.merge_range(RESULT_ROW, 1, RESULT_ROW, 3, "", result)
    ws.set_row(RESULT_ROW, 48)
    ws.write(DETAILS_ROW, 0, DETAILS, label)
    ws.write(DETAILS_ROW, 1, "说明", label)


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
    from toolkit.campaign import resolve
    from toolkit.profile import load_profile

    profile = load_profile(name)
    return profile if profile.notice_year else resolve(profile, TEMPLATE_YEAR)


def template_files(profile: Profile) -> dict[str, bytes]:
    """workbook_templates/<profile>/: the branch form and the macro-enabled master, byte-stable."""
    from toolkit.templates import build_form

    return {"申报表.xlsx": stable_package(build_form(profile)), "台账.xlsm": build_master_template(profile)}
