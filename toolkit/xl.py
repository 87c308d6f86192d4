"""The buttons in the master (台账.xlsm): one entry function per button, run by xlwings' RunPython.

Each takes the workbook from `xw.Book.caller()` when clicked, reads its values into the same Grid objects
the file readers produce, runs the same snapshot/check/plan code as the CLI, and applies the ChangeSet
through the live backend, so Excel itself writes and saves the workbook. The officer's choices (inbox
folder, stage, status, operator) are cells on the 控制台 sheet; the outcome goes back to its 运行结果 cell
in Chinese, never as a traceback dialog.
"""

from __future__ import annotations

import datetime as dt
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from toolkit.core.errors import UsageProblem
from toolkit.core.grid import Grid
from toolkit.core.vocabulary import OUTCOME_ZH, VERDICT_ZH
from toolkit.excel.master_template import (
    ACCEPT,
    BUTTONS,
    CONSOLE_SHEET,
    DETAILS,
    INBOX,
    OPERATOR,
    RESULT,
    STAGE,
    STAMP_BUTTON,
    STATUS,
    SUMMARY_FILE,
    YES,
)

CONSOLE_SEARCH_ROWS = 40
MAX_DETAILS = 500  # lines listed under 明细; the rest is summarised in one line
MAX_ROWS = 1048576  # Excel's last row: an area reaching it is whole columns, not a choice of branches
STAMP_CAPTION = BUTTONS[STAMP_BUTTON].caption


@dataclass
class Outcome:
    """What a button reports: one line for 运行结果, and lines (where, what) for 明细."""

    message: str
    details: list[tuple[str, str]] = field(default_factory=list)


# -- buttons ---------------------------------------------------------------------------------------------

def validate_inbox() -> None:
    """校验收件箱: check every form in the inbox folder against the campaign's rules and the ledger."""
    _run(_validate)


def merge_inbox() -> None:
    """合并收件箱: merge the inbox into the ledger (logos included), log it, save."""
    _run(_merge)


def stamp_selection() -> None:
    """盖章（选中行）: stamp the stage and status chosen on 控制台 on the branches of the selected rows."""
    _run(_stamp)


def make_summary() -> None:
    """生成汇总: write the leaders' summary workbook beside the master."""
    _run(_summary)


# -- reading the book ------------------------------------------------------------------------------------

def grids_from_book(book: Any) -> dict[str, Grid]:
    """Every worksheet's values as Grids (rows from A1, None for empty cells), like toolkit.readers.grid."""
    from toolkit.readers.grid import clean_value

    grids = {}
    for sheet in book.sheets:
        last = sheet.used_range.last_cell
        values = sheet.range((1, 1), (last.row, last.column)).options(ndim=2).value or []
        grids[sheet.name] = Grid(sheet.name, [[clean_value(v) for v in row] for row in values])
    return grids


@dataclass
class _Context:
    book: Any
    grids: dict[str, Grid]
    path: Path

    def setting(self, label: str) -> str:
        row = _console_row(self.grids, label)
        value = self.grids[CONSOLE_SHEET].get(row, 1) if row is not None else None
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        return "" if value is None else str(value).strip()

    def snapshot(self) -> Any:  # -> toolkit.core.master.MasterSnapshot
        from toolkit.core.master import snapshot

        return snapshot(self.path, self.grids, None)

    def folder(self, label: str) -> Path:
        text = self.setting(label)
        if not text:
            raise UsageProblem(f"请先在“{CONSOLE_SHEET}”表的“{label}”右侧填写申报表所在的文件夹")
        path = self.resolve(text)
        if not path.is_dir():
            raise UsageProblem(f"“{label}”中填写的文件夹不存在：{path}。请检查路径后再点按钮")
        return path

    def resolve(self, text: str) -> Path:
        """A path typed on 控制台, relative to the master's folder when not absolute."""
        path = Path(text.strip('"')).expanduser()
        return path if path.is_absolute() else self.path.parent / path

    def summary_path(self) -> Path:
        from toolkit.commands.batch import SUMMARY_SUFFIX

        return self.resolve(self.setting(SUMMARY_FILE) or f"{self.path.stem}{SUMMARY_SUFFIX}.xlsx")



def _console_row(grids: dict[str, Grid], label: str) -> int | None:
    grid = grids.get(CONSOLE_SHEET)
    if grid is None:
        return None
    for r, row in enumerate(grid.rows[:CONSOLE_SEARCH_ROWS]):
        if row and isinstance(row[0], str) and row[0].strip() == label:
            return r
    return None


def _book_path(book: Any) -> Path:
    """The workbook's file. A never-saved book (工作簿1) has no folder for the inbox, backups and logos
    to be found in, nor does one opened from a web address: both are refused."""
    name = str(book.fullname)
    if "://" in name:
        raise UsageProblem(f"台账是从网络位置打开的（{name}），按钮找不到它所在的文件夹。"
                           "请把台账另存到本机文件夹（.xlsm，启用宏的工作簿），打开那个文件再点按钮")
    if not Path(name).is_absolute():
        raise UsageProblem("请先把台账另存为 .xlsm（启用宏的工作簿）再点按钮")
    return Path(name).resolve()


# -- the buttons' work -----------------------------------------------------------------------------------

def _validate(ctx: _Context) -> Outcome:
    from toolkit.commands.batch import collect_paths, origins_for, read_all
    from toolkit.validation.check import check_all

    snap = ctx.snapshot()
    inbox = ctx.folder(INBOX)
    files = collect_paths([inbox], exclude=[ctx.path, ctx.summary_path()])  # never forms
    if not files:
        raise UsageProblem(f"文件夹 {inbox} 中没有可校验的文件（支持 xlsx、xlsm、xls、et、ods、csv、docx、doc）")
    checked = check_all(read_all(files, snap.profile, origins=origins_for([inbox])), snap.profile,
                        snap.named_branches())
    counts = {k: sum(c.status == k for c in checked) for k in VERDICT_ZH}
    details = []
    for c in checked:
        where = Path(c.submission.provenance.path).name
        if c.submission.provenance.sheet:
            where += f"（{c.submission.provenance.sheet}）"
        details.append((where, f"{VERDICT_ZH[c.status]}：{c.branch or '（未识别支部）'}"))
        details += [("", " ".join(x for x in ("错误" if f.severity == "error" else "警告", f.cell, f.message) if x))
                    for f in c.findings]
    summary = "，".join(f"{VERDICT_ZH[k]} {n} 份" for k, n in counts.items() if n)
    return Outcome(f"校验完成：共 {len(checked)} 份，{summary}。台账未改动；详见下方明细", details)


def _merge(ctx: _Context) -> Outcome:
    from toolkit.commands.merge import finish, plan_inbox
    from toolkit.excel.live import apply_live

    snap, inbox = ctx.snapshot(), ctx.folder(INBOX)
    result = plan_inbox(snap, [inbox], operator=ctx.setting(OPERATOR) or None,
                        accept_warnings=ctx.setting(ACCEPT) == YES, exclude=[ctx.summary_path()])
    def write() -> None:
        _apply(ctx, lambda: apply_live(ctx.book, result.changes))

    finish(result, write if result.changes else None)
    details = [(o.branch or Path(o.path).name, "；".join([OUTCOME_ZH[o.action], *o.reasons]))
               for o in result.outcomes]
    counts = "，".join(f"{zh} {len(result.names(k))} 个" for k, zh in OUTCOME_ZH.items() if result.names(k))
    saved = "台账已保存" if result.changes else "台账没有需要改动的内容"
    return Outcome(f"合并完成：{counts or '没有申报表'}。{saved}", details)


def _stamp(ctx: _Context) -> Outcome:
    from toolkit.commands.stamp import default_operator, plan_stamps
    from toolkit.core.model import china_today
    from toolkit.excel.live import apply_live

    snap = ctx.snapshot()
    stage, status = ctx.setting(STAGE), ctx.setting(STATUS)
    if not stage or not status:
        raise UsageProblem(f"请先在“{CONSOLE_SHEET}”表中选择“{STAGE}”和“{STATUS}”，再点盖章按钮")
    ledger = snap.ledger
    if ledger is None:
        raise UsageProblem(f"没有找到台账（含“{snap.profile.key}”列的表头）")
    branches = _selected_branches(ctx.book, ledger)
    plan = plan_stamps(snap, stage, status, branches, by=ctx.setting(OPERATOR) or default_operator(),
                       date=china_today())
    if plan.changes:
        _apply(ctx, lambda: apply_live(ctx.book, plan.changes))
    details = [("说明", n) for n in plan.notes]
    details += [(b, f"已盖章：{stage} {status}") for b in plan.stamped]
    details += [(b, "未变化（已是该状态）") for b in plan.unchanged]
    details += [(b, f"未盖章：{r}") for b, r in plan.refused]
    return Outcome(f"盖章完成：已盖章 {len(plan.stamped)} 个，拒绝 {len(plan.refused)} 个，"
                   f"未变化 {len(plan.unchanged)} 个" + ("。台账已保存" if plan.changes else ""), details)


def _selected_branches(book: Any, ledger: Any) -> list[str]:
    """Branches of the ledger rows the officer selected (every area of a multi-area selection)."""
    sheet, address = _selection(book)
    if sheet != ledger.sheet:
        raise UsageProblem(f"请先切换到“{ledger.sheet}”工作表，选中要盖章的支部所在的行（可按住 Ctrl 多选），"
                           f"再点该表第一行右侧的“{STAMP_CAPTION}”按钮")
    if address is None:
        raise UsageProblem(f"没有选中单元格（选中的可能是图片或图形）。请在“{ledger.sheet}”中选中要盖章的支部所在的行"
                           f"（可按住 Ctrl 多选），再点“{STAMP_CAPTION}”")
    shown = address.replace("$", "")
    spans = [_area_rows(area) for area in shown.split(",")]
    if any(last >= MAX_ROWS - 1 for _, last in spans):
        # a column header clicked (or Ctrl+Shift+↓) selects every branch by accident; a drag over the
        # branches' rows is a choice, so that is still stamped
        raise UsageProblem(f"选中的是整列或到表底的区域（{shown}），会给台账中全部 {len(ledger.rows)} 个支部盖章，"
                           f"未盖章。请只选中要盖章的支部所在的行（可按住 Ctrl 多选）；确要全部盖章，"
                           f"请从第一个支部所在的行拖选到最后一个支部所在的行")
    branches = [r.branch for r in ledger.rows if any(first <= r.row <= last for first, last in spans)]
    if not branches:
        raise UsageProblem(f"选中的行里没有支部（{shown}）。请选中台账中支部所在的行")
    return branches


def _selection(book: Any) -> tuple[str, str | None]:
    """The active sheet's name and its selection's address as Excel writes it ('B2:D3', '$A$2,$A$5',
    '$2:$3', '$C:$C'); None when no cells are selected (a picture, a chart)."""
    sheet = book.sheets.active.name
    if isinstance(book.api, dict):  # the remote engine: the address as sent, which its Range cannot always parse
        return sheet, book.api["book"].get("selection") or None
    selection = book.selection
    return sheet, selection.address if selection is not None else None


def _area_rows(area: str) -> tuple[int, int]:
    """0-based first and last row of one area: 'B2:D3', 'A5', '2:3' (whole rows), 'C:C' (whole columns)."""
    from toolkit.core.model import parse_a1

    first, _, last = area.strip().partition(":")
    ends = (first, last or first)
    if any(ref.isalpha() for ref in ends):
        return 0, MAX_ROWS - 1
    rows = [int(ref) - 1 if ref.isdigit() else parse_a1(ref)[0] for ref in ends]
    return min(rows), max(rows)


def _summary(ctx: _Context) -> Outcome:
    from toolkit.commands.summary import write_summary

    snap = ctx.snapshot()
    out = ctx.summary_path()
    if out.resolve() == ctx.path:  # write_summary's own words name the CLI's -o
        raise UsageProblem(f"汇总表不能写到台账 {ctx.path.name} 本身。请在“{CONSOLE_SHEET}”表的“{SUMMARY_FILE}”右侧"
                           f"填写另一个文件名（如 {ctx.path.stem}_汇总.xlsx），或留空")
    log = ctx.grids.get(snap.profile.ledger.log_sheet)
    result = write_summary(snap, out, log_rows=log.rows if log else None)
    p = result.progress
    return Outcome(f"已生成汇总表：{result.path}", [("汇总表", str(result.path)), *[("注意", w) for w in p.warnings]])


# -- running a button --------------------------------------------------------------------------------------

class _ApplyFailed(Exception):
    """An error after the live backend started writing: the open workbook may be half-changed."""


def _apply(ctx: _Context, write: Callable[[], None]) -> None:
    """Write through the live backend, keep a backup of the file as last saved, and let Excel save."""
    if ctx.path.exists():  # `brandkit undo` then works after a button as after the CLI
        from toolkit.files.transaction import back_up

        back_up(ctx.path, ctx.path.read_bytes())
    try:
        write()
        ctx.book.save()
    except Exception as exc:
        raise _ApplyFailed(str(exc)) from exc


def _run(work: Callable[[_Context], Outcome]) -> None:
    """Run one button's work and report on 控制台, whatever happens; nothing is re-raised to Excel."""
    import xlwings as xw

    book = xw.Book.caller()
    grids: dict[str, Grid] = {}
    try:
        grids = grids_from_book(book)
        outcome = work(_Context(book, grids, _book_path(book)))
    except UsageProblem as exc:
        outcome = Outcome(f"未完成：{exc}")
    # Python's own text of an unexpected error is English: it goes to the log, for the administrator.
    except _ApplyFailed:
        outcome = Outcome("写入台账时出错，台账可能只改了一部分：请不要保存，关闭台账（选“不保存”）后重新打开再试。"
                          f"如果再次出错，请把详细记录 {_log_error()} 发给管理员")
    except Exception:  # a button must never end in a traceback dialog
        outcome = Outcome(f"出错了：程序遇到意外问题，台账未改动。请把详细记录 {_log_error()} 发给管理员")
    _report(book, grids, outcome)


def _log_error() -> Path:
    from platformdirs import user_log_dir

    path = Path(user_log_dir("brandkit")) / "buttons.log"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as fh:
        fh.write(f"--- {dt.datetime.now().isoformat(timespec='seconds')}\n{traceback.format_exc()}\n")
    return path


def _report(book: Any, grids: dict[str, Grid], outcome: Outcome) -> None:
    """运行结果 gets the time and the message; 明细 is replaced by this run's lines."""
    from toolkit.excel.live import as_text_safe

    if CONSOLE_SHEET not in [s.name for s in book.sheets]:  # a master made before the buttons existed
        sheet = book.sheets.add(CONSOLE_SHEET, before=book.sheets[0])
    else:
        sheet = book.sheets[CONSOLE_SHEET]
    console = grids.get(CONSOLE_SHEET, Grid(CONSOLE_SHEET, []))
    result_row, details_row = _console_row(grids, RESULT), _console_row(grids, DETAILS)
    if result_row is None or details_row is None:
        result_row = len(console.rows)
        details_row = result_row + 2
        sheet.range((result_row + 1, 1)).value = [[RESULT], [None], [DETAILS]]
    old = max(0, len(console.rows) - details_row - 1)
    stamp = dt.datetime.now().strftime("%Y-%m-%d %H:%M")
    sheet.range((result_row + 1, 2)).value = f"{stamp}  {outcome.message}"
    lines: list[list[str | None]] = [list(line) for line in outcome.details[:MAX_DETAILS]]
    if len(outcome.details) > MAX_DETAILS:
        lines.append(["……", f"另有 {len(outcome.details) - MAX_DETAILS} 行未列出"])
    lines += [[None, None]] * max(0, old - len(lines))  # blank out the previous run's longer list
    if lines:
        sheet.range((details_row + 2, 1)).value = [[as_text_safe(a), as_text_safe(b)] for a, b in lines]
