"""Human-readable output for the terminal (Chinese). The JSON shapes live with the results."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from toolkit.app import ValidationResult

STATUS_ZH = {"ok": "通过", "warning": "有警告", "error": "不通过", "unreadable": "无法读取"}
SEVERITY_ZH = {"error": "错误", "warning": "警告"}


def progress_callback(label: str) -> Callable[[int, int], None]:
    """A rich progress bar on stderr, driven by (done, total) calls."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    bar = Progress(TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                   console=Console(file=sys.stderr), transient=True)
    task = None

    def update(done: int, total: int) -> None:
        nonlocal task
        if task is None:
            bar.start()
            task = bar.add_task(label, total=total)
        bar.update(task, completed=done)
        if done >= total:
            bar.stop()

    return update


def render_validation(result: ValidationResult, say: Callable[[str], None]) -> None:
    counts = {k: 0 for k in STATUS_ZH}
    for n, c in enumerate(result.checked):
        sub = c.submission
        counts[c.status] += 1
        where = Path(sub.provenance.path).name + (f"［{sub.provenance.sheet}］" if sub.provenance.sheet else "")
        branch = f"  {c.branch}" if c.branch else ""
        say(f"{STATUS_ZH[c.status]}  {where}{branch}")
        for f in c.findings:
            cell = f"{f.cell}  " if f.cell else ""
            say(f"    {SEVERITY_ZH[f.severity]}  {cell}{f.message}")
        for note in sub.notes:
            say(f"    说明  {note}")
        if n in result.report_paths:
            say(f"    校验结果：{result.report_paths[n]}")
    summary = "，".join(f"{STATUS_ZH[k]} {v} 份" for k, v in counts.items() if v)
    say(f"\n共 {len(result.checked)} 份申报表：{summary}。")
    if result.overview:
        say(f"校验汇总：{result.overview}")
