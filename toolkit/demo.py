"""`brandkit demo`: the whole flow on the bundled samples — mail in, check, merge, stamp, summarise."""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Callable
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

from toolkit.batch import collect_paths

SAMPLES = Path(__file__).resolve().parents[1] / "samples"
PROFILE = "hospital-brand"
FIRST_RECEIVED = dt.datetime(2024, 7, 25, 9, 30, tzinfo=dt.timezone(dt.timedelta(hours=8)))


def write_sample_mail(forms: list[Path], folder: Path) -> list[Path]:
    """One .eml per sample form, as a branch secretary would send it (one a day, the last one late)."""
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for n, form in enumerate(forms):
        msg = EmailMessage()
        msg["From"] = f"支部书记{n + 1} <branch{n + 1}@example.org>"
        msg["To"] = "党委办公室 <dangban@example.org>"
        msg["Subject"] = f"“一支部一品牌”申报表 — {form.stem}"
        msg["Date"] = format_datetime(FIRST_RECEIVED + dt.timedelta(days=2 * n))
        msg["Message-ID"] = f"<demo-{n}@example.org>"
        msg.set_content("您好，附件是我支部的申报表，请查收。")
        msg.add_attachment(form.read_bytes(), maintype="application", subtype="octet-stream", filename=form.name)
        path = folder / f"{n + 1:02d}.eml"
        path.write_bytes(bytes(msg))
        out.append(path)
    return out


def run_demo(folder: Path, say: Callable[[str], None]) -> int:
    from toolkit import app
    from toolkit.mail import intake
    from toolkit.masters import init_master
    from toolkit.merging import merge
    from toolkit.render import render_merge

    if folder.exists():
        shutil.rmtree(folder)
    forms = collect_paths([SAMPLES / PROFILE])
    mails = write_sample_mail(forms, folder / "邮件")
    say(f"1. 收取邮件：{len(mails)} 封样例邮件 → {folder / '收件箱'}")
    report = intake([str(folder / "邮件")], folder / "收件箱")
    say(f"   保存附件 {sum(len(m.attachments) for m in report.messages)} 个（清单 inbox.jsonl）")
    say(f"2. 校验申报表，给每个支部生成标注好的校验结果 → {folder / '校验结果'}")
    result = app.validate([folder / "收件箱"], profile_name=PROFILE, master=None, report_dir=folder / "校验结果")
    counts = {s: sum(1 for c in result.checked if c.status == s) for s in ("ok", "warning", "error", "unreadable")}
    say(f"   通过 {counts['ok']}，有警告 {counts['warning']}，不通过 {counts['error']}，无法读取 {counts['unreadable']}")
    master = folder / "品牌台账.xlsx"
    say(f"3. 新建台账（支部名单 {SAMPLES / 'rosters' / (PROFILE + '_支部名单.xlsx')}）→ {master}")
    init_master(master, PROFILE, SAMPLES / "rosters" / f"{PROFILE}_支部名单.xlsx", operator="党办干事")
    say("4. 合并通过校验的申报表（标识放进“品牌标识”列）")
    merged = merge(master, [folder / "收件箱"], operator="党办干事")
    render_merge(merged, lambda line="", problem=False: say("   " + line))
    for step in _later_steps(master, folder):
        say(step)
    say(f"\n完成。打开 {master} 查看台账，{folder / '校验结果' / '校验汇总.xlsx'} 查看校验汇总。")
    return 0


def _later_steps(master: Path, folder: Path) -> list[str]:
    """Stamp a stage and write the leaders' summary."""
    from toolkit.stamp import stamp
    from toolkit.summary import summary

    done = stamp(master, "党总支审批", "已通过", branches=["中共内科第一党支部", "护理部党支部"],
                 by="党总支书记", date=dt.date(2024, 8, 12))
    result = summary(master, folder / "汇总.xlsx", png_dir=folder / "图表", today=dt.date(2024, 8, 15))
    return [f"5. 盖章：党总支审批 已通过 → {'、'.join(done.plan.stamped)}",
            f"6. 给领导的汇总 → {result.path}（图表 PNG → {folder / '图表'}）"]
