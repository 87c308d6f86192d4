"""One vocabulary: statuses, outcomes and log actions are written in toolkit/core/vocabulary.py only, and the
CLI, the buttons and the reports say the same Chinese words for the same thing."""

from __future__ import annotations

import ast
from pathlib import Path

from toolkit.core import vocabulary as v

ROOT = Path(__file__).resolve().parents[1]
WORDS = {*v.VERDICT_ZH.values(), *v.OUTCOME_ZH.values(), *v.LogAction, *v.Receipt, *v.KIND_ZH.values(),
         v.NOT_SUBMITTED, *v.Mark, v.NOT_HANDED_IN, *v.NoticeKind, *v.ReportState, v.UNHANDLED}


def test_no_status_outcome_or_log_word_is_written_outside_the_vocabulary() -> None:
    """A string literal that is exactly one of the words may only stand in vocabulary.py (the message
    catalogue's sentences may use the words inside prose; profiles are data)."""
    found = []
    for path in sorted((ROOT / "toolkit").rglob("*.py")):
        if path.name == "vocabulary.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in WORDS:
                found.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.value!r}")
    assert found == []


def test_cli_buttons_and_reports_share_the_words() -> None:
    from toolkit import render, xl
    from toolkit.files import office_summary as report

    assert render.VERDICT_ZH is report.VERDICT_ZH is xl.VERDICT_ZH is v.VERDICT_ZH
    assert render.OUTCOME_ZH is xl.OUTCOME_ZH is v.OUTCOME_ZH
