"""`brandkit demo`: the whole flow on the bundled samples — mail in, check, merge, stamp, summarise."""

from __future__ import annotations

import datetime as dt
import functools
import operator
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import TYPE_CHECKING

from toolkit.commands.batch import collect_paths
from toolkit.core.errors import UsageProblem
from toolkit.core.model import china_today
from toolkit.core.profile import Profile
from toolkit.core.stages import stage_after_form
from toolkit.files.bundled import bundled

if TYPE_CHECKING:
    from toolkit.commands.merge import MergeResult

PROFILE = "hospital-brand"
CHINA = dt.timezone(dt.timedelta(hours=8))
LEAD_DAYS = 16  # the first sample mail arrives this many days before the form is due; one every 2 days


def first_received(profile: Profile) -> dt.datetime:
    due = profile.submission_stage.due or china_today()
    return dt.datetime.combine(due - dt.timedelta(days=LEAD_DAYS), dt.time(9, 30), CHINA)


def merge_day(profile: Profile, forms: int) -> dt.datetime:
    """When the demo's office merges: the morning after the last of `forms` sample mails arrived. Its
    stamps and summary follow on from there, so every view as of a day sees the campaign as it stood."""
    last = first_received(profile) + dt.timedelta(days=2 * (forms - 1))
    return dt.datetime.combine(last.date() + dt.timedelta(days=1), dt.time(9, 0))


def write_sample_mail(forms: list[Path], folder: Path, profile: Profile) -> list[Path]:
    """One .eml per sample form, as a branch secretary would send it (one every two days, the last
    ones late)."""
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for n, form in enumerate(forms):
        msg = EmailMessage()
        msg["From"] = f"支部书记{n + 1} <branch{n + 1}@example.org>"
        msg["To"] = "党委办公室 <dangban@example.org>"
        title = profile.form_title if profile.title in profile.form_title else f"“{profile.title}”{profile.form_title}"
        msg["Subject"] = f"{title} — {form.stem}"
        msg["Date"] = format_datetime(first_received(profile) + dt.timedelta(days=2 * n))
        msg["Message-ID"] = f"<demo-{n}@example.org>"
        msg.set_content("您好，附件是我支部的申报表，请查收。")
        msg.add_attachment(form.read_bytes(), maintype="application", subtype="octet-stream", filename=form.name)
        path = folder / f"{n + 1:02d}.eml"
        path.write_bytes(bytes(msg))
        out.append(path)
    return out


@contextmanager
def sample_path(*parts: str) -> Iterator[Path]:
    """A bundled sample (file or folder) as a path on disk (see `toolkit.files.bundled`)."""
    from importlib.resources import as_file

    with as_file(functools.reduce(operator.truediv, parts, bundled("samples"))) as path:
        yield path


def run_demo(folder: Path, say: Callable[[str], None], show_merge: Callable[[MergeResult], None],
             profile_id: str = PROFILE) -> int:
    """Run the whole flow on the bundled samples, narrating through `say`; `show_merge` renders the merge."""
    from toolkit.commands.profiles import resolve_profile

    profile = resolve_profile(profile_id)
    with sample_path(profile.id) as forms_dir, sample_path("rosters", f"{profile.id}_支部名单.xlsx") as roster:
        if not forms_dir.is_dir():
            raise UsageProblem(f"没有活动方案 {profile.id} 的示例申报表（{forms_dir}）：只有内置活动方案带示例；"
                               f"内置方案也找不到示例时，说明 brandkit 安装不完整，请重新安装")
        return _run(folder, say, show_merge, profile, forms_dir, roster if roster.is_file() else None)


def _run(folder: Path, say: Callable[[str], None], show_merge: Callable[[MergeResult], None], profile: Profile,
         forms_dir: Path, roster: Path | None) -> int:
    from toolkit.commands.init import init_master
    from toolkit.commands.merge import merge
    from toolkit.commands.validate import validate
    from toolkit.mail import intake

    profile_id = profile.id
    if folder.exists():
        shutil.rmtree(folder)
    forms = collect_paths([forms_dir])
    mails = write_sample_mail(forms, folder / "邮件", profile)
    say(f"活动方案：{profile.id}（{profile.title}）")
    say(f"1. 收取邮件：{len(mails)} 封样例邮件 → {folder / '收件箱'}")
    report = intake([str(folder / "邮件")], folder / "收件箱")
    say(f"   保存附件 {sum(len(m.attachments) for m in report.messages)} 个（清单 inbox.jsonl）")
    master = folder / f"{profile.ledger.sheet}.xlsx"
    say(f"2. 新建台账{f'（支部名单 {roster.name}）' if roster else ''} → {master}")
    init_master(master, profile_id, roster, operator="党办干事")
    say(f"3. 按台账的填报规则和支部名单校验申报表，给每个支部生成标注好的校验结果 → {folder / '校验结果'}")
    result = validate([folder / "收件箱"], profile_name=None, master=master, report_dir=folder / "校验结果")
    counts = {s: sum(1 for c in result.checked if c.status == s) for s in ("ok", "warning", "error", "unreadable")}
    say(f"   通过 {counts['ok']}，有警告 {counts['warning']}，不通过 {counts['error']}，无法读取 {counts['unreadable']}")
    say("4. 合并通过校验的申报表" + ("（标识放进“品牌标识”列）" if profile.ledger.logo_column else ""))
    merged_at = merge_day(profile, len(forms))
    merged = merge(master, [folder / "收件箱"], operator="党办干事", now=merged_at)
    show_merge(merged)
    merged_in = [o.branch for o in sorted(merged.outcomes, key=lambda o: Path(o.path).name) if o.action in ("added", "updated")]
    for step in _later_steps(master, folder, profile, merged_in[:2], merged_at.date()):
        say(step)
    say(f"\n完成。打开 {master} 查看台账，{folder / '校验结果' / '校验汇总.xlsx'} 查看校验汇总。")
    return 0


def _later_steps(master: Path, folder: Path, profile: Profile, branches: list[str], merged: dt.date) -> list[str]:
    """Stamp the stage after the form's (its first passing status) two days after the merge, and write the
    leaders' summary as of five days after it."""
    from toolkit.commands.stamp import stamp
    from toolkit.commands.summary import summary

    steps = []
    after = stage_after_form(profile)
    status = next((t for t in after.statuses if t in profile.statuses.passed), None) if after else None
    if after and status and branches:
        done = stamp(master, after.name, status, branches=branches, by="党总支书记", date=merged + dt.timedelta(days=2))
        steps.append(f"5. 盖章：{after.name} {status} → {'、'.join(done.plan.stamped)}")
    result = summary(master, folder / "汇总.xlsx", png_dir=folder / "图表", today=merged + dt.timedelta(days=5))
    steps.append(f"{len(steps) + 5}. 给领导的汇总 → {result.path}（图表 PNG → {folder / '图表'}）")
    return steps
