"""Human-readable output for the terminal (Chinese). The JSON shapes live with the results."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from toolkit.core.display import one_line
from toolkit.core.vocabulary import OUTCOME_ZH, SEVERITY_ZH, VERDICT_ZH, Mark, NoticeKind, Outcome

if TYPE_CHECKING:
    from toolkit.commands.booklet import BookletResult
    from toolkit.commands.merge import MergeResult
    from toolkit.commands.notify import NotifyResult
    from toolkit.commands.rollup import RollupResult
    from toolkit.commands.validate import ValidationResult
    from toolkit.core.adoption import InitResult
    from toolkit.core.plan_deliverables import DeliverableOutcome, FormCopy
    from toolkit.files.transaction import Undone
    from toolkit.mail import IntakeReport

Say = Callable[..., None]  # say(text, problem=False): problem lines are the ones `-q` still prints
COPY_OF_FORM = "申报表盖章版/扫描件"


def progress_callback(label: str) -> Callable[[int, int], None]:
    """A rich progress bar on stderr, driven by (done, total) calls."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    bar = Progress(TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                   console=Console(file=sys.stderr), transient=True)
    task = None
    running = False

    def update(done: int, total: int) -> None:
        nonlocal task, running
        if task is None:
            task = bar.add_task(label, total=total)
        if not running and done < total:  # started, or started again when a later source adds work
            bar.start()
            running = True
        bar.update(task, completed=done, total=total)
        if running and done >= total:
            bar.stop()
            running = False

    return update


def render_validation(result: ValidationResult, say: Say) -> None:
    kinds = ("申报表", "材料", COPY_OF_FORM)
    counts: dict[str, dict[str, int]] = {kind: {k: 0 for k in VERDICT_ZH} for kind in kinds}
    for n, c in enumerate(result.checked):
        sub = c.submission
        counts[COPY_OF_FORM if n in result.copies else "材料" if n in result.materials else "申报表"][c.status] += 1
        bad = c.status in ("error", "unreadable")
        where = one_line(Path(sub.provenance.path).name + (f"［{sub.provenance.sheet}］" if sub.provenance.sheet else ""))
        branch = f"  {one_line(c.branch)}" if c.branch else ""
        what = f"  〔{'、'.join(result.materials[n])}〕" if result.materials.get(n) else \
            f"  〔{COPY_OF_FORM}〕" if n in result.copies else ""
        say(f"{VERDICT_ZH[c.status]}  {where}{branch}{what}", problem=bad)
        for f in c.findings:
            cell = f"{f.cell}  " if f.cell else ""
            say(f"    {SEVERITY_ZH[f.severity]}  {cell}{f.message}", problem=f.severity == "error")
        for note in sub.notes:
            say(f"    说明  {note}")
        if n in result.report_paths:
            say(f"    校验结果：{result.report_paths[n]}", problem=bad)
        elif n in result.report_errors:
            say(f"    未能生成校验结果：{result.report_errors[n]}", problem=True)
    totals = [f"共 {sum(got.values())} 份{what}：" + "，".join(f"{VERDICT_ZH[k]} {v} 份" for k, v in got.items() if v)
              + "。" for what, got in counts.items() if any(got.values())]
    say("\n" + "\n".join(totals))
    if result.deliverables:
        say("\n各支部材料（合并时将这样记入台账）：")
        render_deliverables(result.deliverables, say)
    if result.report_errors:
        files = dict.fromkeys(Path(result.checked[n].submission.provenance.path).name for n in result.report_errors)
        say(f"有 {len(files)} 个文件未能生成校验结果：{'、'.join(map(one_line, files))}（原因见上）", problem=True)
    if result.overview:
        say(f"校验汇总：{result.overview}")
    elif result.overview_error:
        say(f"未能生成校验汇总：{result.overview_error}", problem=True)


def render_init(result: InitResult, say: Say) -> None:
    if result.created:
        say(f"已新建台账：{result.master}")
    elif result.ledger_sheet is not None:
        say(f"已接管台账：{result.master}（工作表“{result.ledger_sheet}”，表头在第 {result.header_row} 行）")
    else:
        say(f"已在 {result.master} 中新增台账（原有工作表中没有认出台账，均未改动）")
    if result.labelled:
        say("  原有列按栏目使用：" + "、".join(f"“{office}”→“{name}”" for office, name in result.labelled))
    if result.added_sheets:
        say(f"  新增工作表：{'、'.join(result.added_sheets)}")
    if result.added_columns:
        say(f"  新增列：{'、'.join(result.added_columns)}")
    if (roster := result.roster) is not None:  # init --roster
        from toolkit.core.messages import roster_message

        say("  " + roster_message("read_from", file=roster.file, sheet=roster.sheet, count=roster.branches))
    if result.added_branches:
        say(f"  名单中新增支部 {len(result.added_branches)} 个")
    if result.backup:
        say(f"  原文件备份：{result.backup}")
    if result.dates:
        say(f"  活动日期（{result.year} 年起，可在“填报规则”工作表中修改）：")
        for line in result.dates:
            say(f"    {line}")
    for warning in result.warnings:
        say(f"  注意：{warning}", problem=True)


def render_notify(result: NotifyResult, say: Say) -> None:
    plan = result.plan
    done = {id(n) for n in result.sent}
    verb = "将写" if result.dry_run else "已发送" if result.send else "草稿"
    for n in plan.notices:
        if result.send and not result.dry_run and id(n) not in done:
            continue
        extra = f"  附件 {n.report}" if n.report else ""
        say(f"{verb}  {n.kind.value}  {one_line(n.branch)} → {n.to}{'（再次催报）' if n.again else ''}{extra}")
    for n, error in result.failed:
        say(f"未发出  {n.kind.value}  {one_line(n.branch)} → {n.to}：{error}", problem=True)
    for n in plan.no_address:
        if n.bad_address:
            say(f"邮箱无效  {n.kind.value}  {one_line(n.branch)}：“{one_line(n.bad_address)}”不是有效的邮箱地址，只写了草稿；"
                "请在“支部名单”工作表的“邮箱”列改正（多个地址用“；”隔开）", problem=True)
        else:
            say(f"没有邮箱  {n.kind.value}  {one_line(n.branch)}：只写了草稿，请在“支部名单”工作表的“邮箱”列补上地址",
                problem=True)
    for n in plan.no_report:
        say(f"缺校验结果  {n.kind.value}  {one_line(n.branch)}：在 {result.reports_dir} 中找不到由这份 {one_line(n.source)}"
            f"（SHA256 {n.sha256[:12]}…）生成的 {one_line(n.source.rpartition('.')[0] or n.source)}_校验结果.xlsx，"
            f"这封退回邮件没有写（同名文件的校验结果不会代用）；请先运行 "
            f"brandkit validate 收件箱/ --master {result.master.name} --report-dir {result.reports_dir}", problem=True)
    if plan.already:
        say(f"此前已发过、不再重发的 {len(plan.already)} 封（催报要再发请加 --again）")
    by = f"；退回的请于 {plan.by} 前重报" if plan.by and any(n.kind == NoticeKind.RETURN for n in plan.notices) else ""
    if result.dry_run:
        say(f"\n共 {len(plan.notices)} 封可发{by}。未写草稿、未发送（去掉 --dry-run 即生成草稿，加 --send 直接发送）。")
    elif result.send:
        say(f"\n已发送 {len(result.sent)} 封，未发出 {len(result.failed)} 封{by}；已记入“操作记录”。邮件副本 → {result.drafts_dir}")
    else:
        say(f"\n已写 {len(result.written)} 封草稿 → {result.drafts_dir}{by}（可在 Foxmail、Outlook 中打开后发送）")
        if plan.notices:
            say(f"下一步：brandkit notify {result.master.name} --send --user 你的邮箱  直接发送这 {len(plan.notices)} 封")


def render_merge(result: MergeResult, say: Say, verbose: bool | None = False) -> None:
    """A short account: the forms sent back (退回, then 暂缓) with their reasons first, then one line per
    other outcome naming its branches; with `verbose`, each merged form's fields as they changed (None:
    not, and no -v to mention: the demo)."""
    order = ("rejected", "held", "added", "updated", "unchanged", "superseded")
    for action in order:
        outcomes = [o for o in result.outcomes if o.action == action]
        if not outcomes:
            continue
        bad = action in ("rejected", "held")
        if bad or verbose:
            say(f"{OUTCOME_ZH[action]} {len(outcomes)} 份：", problem=bad)
            for o in outcomes:
                say(f"  {_branch(o.branch)}  ← {one_line(Path(o.path).name)}", problem=bad)
                for reason in o.reasons:
                    say(f"    原因：{reason}", problem=bad)
                for name, before, after in o.changes if verbose else ():
                    say(f"    {name}：{_short(before)} → {_short(after)}" if before not in (None, "") else
                        f"    {name}：{_short(after)}")
        else:
            say(f"{OUTCOME_ZH[action]} {len(outcomes)} 份：{'、'.join(_branch(o.branch) for o in outcomes)}")
    counts = {k: len(result.names(k)) for k in order}
    say()
    say("合计：" + ("，".join(f"{OUTCOME_ZH[k]} {v}" for k, v in counts.items() if v) or "没有读到申报表") + "。"
        + ("（加 -v 可看各栏目的改动）" if verbose is False and (counts["added"] or counts["updated"]) else ""))
    if result.dry_run:
        say("（试运行：台账未改动）")
    elif result.backup:
        say(f"台账已保存：{result.master}（改动前的备份：{result.backup}）")
    else:
        say(f"台账无需改动：{result.master}")
    for warning in result.warnings:
        say(warning, problem=True)
    if result.missing_originals:
        say(f"未能保存标识原图：{'、'.join(result.missing_originals)}（标识已放入台账；原图请从其申报表中另存，"
            f"或检查 {result.master.stem}_标识 文件夹所在磁盘的空间与权限）", problem=True)
    marks = result.deliverables
    if marks.outcomes or marks.unmatched:
        shown = [o for o in marks.outcomes if o.written or o.notes]  # notes: why a mark was not written
        kept = len(marks.outcomes) - len(shown)
        say(f"\n材料：记入台账 {sum(o.written for o in shown)} 项"
            + (f"（另有 {kept} 项台账中已有记录，未改动）" if kept else "") + "。")
        render_deliverables(shown, say)
        if marks.unmatched:
            say(f"未找到所属支部的文件：{'、'.join(map(one_line, marks.unmatched))}（未记入台账；请在文件名中写明支部名称，"
                "或由该支部的邮箱发送）", problem=True)
    if marks.aside:
        say("\n未计为材料的文件（所属阶段尚未开始）：")
        for a in marks.aside:
            say(f"  {_branch(a.branch or '')}  {one_line(a.name)}：{a.reason}")
    render_copies(marks.copies, say)
    if any(o.action == "held" for o in result.outcomes):
        say("有需确认的警告（如内容雷同、品牌重名）的申报表暂缓合并；核对后可加 --accept-warnings 合并。",
            problem=True)


def render_rollup(result: RollupResult, say: Say) -> None:
    """Conflicts first (each master's version, the columns that differ, what to do), then each branch."""
    from toolkit.core.master import SOURCE_FILE, SUBMITTED_AT

    for warning in result.warnings:
        say(f"注意：{one_line(warning)}", problem=True)
    conflicts = result.conflicts
    if conflicts:
        say(f"有 {len(conflicts)} 个支部在几个台账中内容不同（冲突），未写入上级台账：", problem=True)
    for o in conflicts:
        now = f"（上级台账现存的是 {one_line(o.source)} 的版本，未改动）" if o.source else ""
        say(f"{OUTCOME_ZH[o.action]}  {one_line(o.branch)}  在 {'、'.join(dict.fromkeys(v.master for v in o.versions))} "
            f"中不同{now}", problem=True)
        for v in o.versions:
            origin = "，".join(f"{k} {_short(v.values.get(k))}" for k in (SOURCE_FILE, SUBMITTED_AT)
                              if v.values.get(k) not in (None, ""))
            say(f"    {one_line(v.master)}" + (f"（{one_line(origin)}）" if origin else ""), problem=True)
            for name in o.fields:
                say(f"      {name}：{one_line(_short(v.values.get(name)))}", problem=True)
    if conflicts:
        first = conflicts[0]
        say(f"处理办法：核对后指定以哪个台账为准再运行一次，如 --prefer {first.versions[-1].master}（该台账涉及的冲突都以它为准），"
            f"或 --prefer {first.branch}={first.versions[-1].master}（只此一个支部）。\n", problem=True)
    for o in result.outcomes:
        if o.action == Outcome.CONFLICT:
            continue
        also = f"（{'、'.join(map(one_line, o.also))} 中相同或为同一份申报表）" if o.also and not o.settled else ""
        settled = f"（冲突按 --prefer {one_line(o.settled)} 处理）" if o.settled else ""
        say(f"{OUTCOME_ZH[o.action]}  {one_line(o.branch)}  ← {one_line(o.source)}{also}{settled}")
        for name, before, after in o.changes:
            say(f"    {name}：{_short(before)} → {_short(after)}" if before not in (None, "") else
                f"    {name}：{_short(after)}")
    counts = {k: len(result.names(k)) for k in OUTCOME_ZH}
    say("\n" + ("，".join(f"{OUTCOME_ZH[k]} {v}" for k, v in counts.items() if v) + "。" if any(counts.values()) else
                "没有可汇总的支部。"))
    if result.dry_run:
        say("（试运行：上级台账未改动）")
    elif result.backup:
        say(f"上级台账已保存：{result.master}（改动前的备份：{result.backup}）")
    elif result.created:
        say(f"已新建上级台账：{result.master}")
    else:
        say(f"上级台账无需改动：{result.master}")
    if result.missing_originals:
        say(f"未能复制标识原图：{'、'.join(result.missing_originals)}（标识已放入台账；请检查 {result.master.stem}_标识 "
            "文件夹所在磁盘的空间与权限）", problem=True)
    if conflicts:
        say(f"下一步：核对上面 {len(conflicts)} 个冲突，加 --prefer 重新运行 brandkit rollup")
    else:
        say(next_step(f"brandkit status {shell_arg(result.master)} 查看各党总支汇总后的进度"))


def _branch(name: str) -> str:
    return one_line(name) if name else "（未识别支部）"


def render_copies(copies: list[FormCopy], say: Say) -> None:
    """Copies of a form (盖章版, 扫描件): received and kept in the inbox, where each lies; a branch whose
    copy is all it sent is asked for the Excel/Word form."""
    if not copies:
        return
    say(f"\n{COPY_OF_FORM}已收到 {len(copies)} 份（原件留在收件箱备查，不计为材料，台账未改动）：")
    for c in copies:
        say(f"  {_branch(c.branch or '')}  ← {one_line(c.path)}")
    alone = [c for c in copies if c.alone]
    for c in alone:
        who = one_line(c.branch) if c.branch else f"发来“{one_line(c.name)}”的支部"
        say(f"  {who}只交了{COPY_OF_FORM}（{one_line(c.name)}），没有 Excel/Word 电子版申报表，申报表仍未收到："
            f"请{'该支部' if c.branch else '其'}另发电子版申报表（Excel 或 Word）后再合并", problem=True)


def render_deliverables(outcomes: list[DeliverableOutcome], say: Say) -> None:
    """Each branch's deliverable: 已交, 不合格 with its reasons, or 缺; the files and any notes."""
    for o in outcomes:
        bad = o.mark != Mark.DONE
        files = f"  ← {'、'.join(map(one_line, o.files))}" if o.files else ""
        say(f"  {one_line(o.branch) if o.branch else '（未识别支部）'}  {o.name}：{o.mark}{files}", problem=bad)
        for finding in o.findings:
            say(f"    {'原因' if bad else '提示'}：{finding}", problem=bad)
        for note in o.notes:
            say(f"    说明  {note}")


def _short(value: object, limit: int = 40) -> str:
    text = "" if value is None else str(value).replace("\n", " ")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def render_intake(report: IntakeReport, inbox: Path, say: Say) -> None:
    saved = 0
    for m in report.messages:
        say(f"{m.date or ''}  {one_line(m.sender)}  {one_line(m.subject)}")
        for a in m.attachments:
            saved += 1
            say(f"    保存  {one_line(a['name'])}")
        for s in m.skipped:
            say(f"    跳过  {one_line(s.name)}：{s.reason}", problem=True)
    for warning in report.warnings:
        say(f"警告  {warning}", problem=True)
    for error in report.errors:
        say(f"错误  {error}", problem=True)
    say(f"\n收取 {len(report.messages)} 封邮件，保存 {saved} 个附件到 {inbox}"
        f"（此前已收取 {report.already_taken} 封，未重复收取）。")
    if report.moved:
        say(f"已移动 {report.moved} 封到 {one_line(report.moved_to or '')}。")


def render_profile(doc: dict[str, Any], say: Say) -> None:
    """`brandkit profiles --profile X`: the notice, the form's labels and limits, stages, notes."""
    say(f"{doc['id']}  {doc['title']}")
    for label, key in (("通知", "notice_title"), ("发文单位", "issuer"), ("文号", "doc_number"),
                       ("来源", "source"), ("申报表", "form_title"), ("报送", "submit_to")):
        if doc.get(key):
            say(f"  {label}：{doc[key]}")
    say("  栏目（按申报表原文）：")
    for f in doc["fields"]:
        limits = [f"{f['max_chars']}字以内" if f["max_chars"] else "", "必填" if f["required"] else "选填",
                  "可选：" + "、".join(f["choices"]) if f["choices"] else "",
                  "可分栏填写：" + "、".join(f["parts"]) if f["parts"] else "",
                  f"不存入台账（{f['reason']}）" if not f["stored"] else ""]
        say(f"    {f['label'].replace(chr(10), ' ')}　[{'，'.join(x for x in limits if x)}]")
    for t in doc["tables"]:
        say(f"  表格“{t['name']}”（至少 {t['min_rows']} 行）：" + "、".join(c["label"] for c in t["columns"]))
    say("  阶段：")
    for s in doc["stages"]:
        when = "—".join(str(d) for d in (s["start"], s["due"]) if d)
        mark = "（申报表在此阶段提交）" if s["submission"] else ""
        say(f"    {s['name']}{mark}  {when}" + (f"  要求：{s['note']}" if s["note"] else ""))
    for note in doc["notes"]:
        say(f"  说明：{note}")


# -- what to do next: the last line of each command ----------------------------------------------------

def shell_arg(path: object) -> str:
    """A path as it would be typed after `brandkit` (quoted when it holds a space)."""
    text = one_line(str(path))
    return f'"{text}"' if any(c.isspace() for c in text) else text


def undo_lines(master: Path, undone: Undone) -> list[str]:
    """What `undo` did (the CLI's lines, the web page's message): the state restored, and a state saved
    by hand since brandkit's last command said plainly, with where it is kept."""
    lines = [f"已撤销上一次操作：{master} 已恢复为 {undone.restored.name} 的内容"]
    if undone.edited:
        lines.append(f"注意：撤销前的台账在 brandkit 上次操作后又被手工修改并保存过，这些修改已不在台账中；"
                     f"撤销前的台账保存在 {undone.kept}，需要时可从中复制回来")
    return lines


def next_step(text: str) -> str:
    return f"下一步：{text}"


def next_after_merge(result: MergeResult, master: object, inputs: list[Path]) -> str:
    """Send the reasons back (notify), confirm the held forms, write a previewed merge, or look at progress."""
    m = shell_arg(master)
    if result.dry_run:
        return next_step(f"去掉 --dry-run 再运行一次，把以上改动写入台账：brandkit merge {m} "
                         + " ".join(map(shell_arg, inputs)))
    returned = {o.branch or o.path for o in result.outcomes if o.action == "rejected"}
    if returned:
        return next_step(f"brandkit notify {m} 把退回意见发给 {len(returned)} 个支部（附各自的校验结果）")
    held = [o for o in result.outcomes if o.action == "held"]
    if held:
        return next_step(f"核对暂缓的 {len(held)} 份后，加 --accept-warnings 再合并一次")
    return next_step(f"brandkit status {m} 查看各支部进度，催报未提交的支部")


def next_after_validation(result: ValidationResult, paths: list[Path], master: Path | None) -> str:
    bad = sum(c.status in ("error", "unreadable") for c in result.checked)
    good = len(result.checked) - bad
    m = shell_arg(master) if master else "台账.xlsx"
    merge = f"brandkit merge {m} {' '.join(map(shell_arg, paths))} 合并通过校验的 {good} 份"
    back = f"，不通过的 {bad} 份合并时退回，再用 brandkit notify {m} 把校验结果发回支部" if bad else ""
    return next_step(merge + back + ("" if master else "（台账用 brandkit init 新建）"))


def next_after_init(result: InitResult, profile: str) -> str:
    m = shell_arg(result.master)
    return next_step(f"brandkit template --profile {profile} -o 申报表.xlsx 生成申报表发给各支部；"
                     f"收到后 brandkit merge {m} 收件箱/ 合并")


def next_after_intake(inbox: Path) -> str:
    return next_step(f"brandkit merge 台账.xlsx {shell_arg(inbox)} --dry-run 先看合并结果，无误后去掉 --dry-run")


def next_after_status(missing: int, master: object) -> str:
    m = shell_arg(master)
    if missing:
        return next_step(f"brandkit notify {m} 向 {missing} 个未提交的支部催报")
    return next_step(f"brandkit summary {m} -o 汇总.xlsx 生成给领导的汇总")


def render_booklet(result: BookletResult, say: Say) -> None:
    book = result.booklet
    say(f"已生成{book.title}：{result.path}（{book.chosen}，共 {len(book.sections)} 个品牌）")
    if result.pdf:
        say(f"PDF：{result.pdf}")
    if result.no_logo:
        say(f"没有标识图片的支部：{'、'.join(map(one_line, result.no_logo))}", problem=True)
    if result.withdrawn:
        say(f"已退出、未收录的支部：{'、'.join(map(one_line, result.withdrawn))}（其状态仍留在台账中，见 brandkit status）")
    say(next_step(f"打印或分发 {shell_arg(result.pdf)}" if result.pdf else
                  f"用 Word 或 WPS 打开 {shell_arg(result.path)}，按提示更新目录后打印或另存为 PDF"))
