"""`brandkit demo` (what `make demo` runs): the whole flow on the samples, end to end."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.libreoffice import roundtrip_values

ROOT = Path(__file__).resolve().parents[1]


def test_demo_runs_the_whole_flow(tmp_path):
    out = tmp_path / "demo"
    proc = subprocess.run([sys.executable, "-m", "toolkit", "demo", str(out)], capture_output=True, text=True,
                          timeout=900, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-3000:]
    for name in ("品牌台账.xlsx", "汇总.xlsx", "校验结果/校验汇总.xlsx", "收件箱/inbox.jsonl"):
        assert (out / name).exists(), name
    ledger = roundtrip_values(out / "品牌台账.xlsx")["品牌台账"]
    header = ledger[0]
    rows = {r[header.index("党支部名称")]: r for r in ledger[1:]}
    assert rows["内科第一党支部"][header.index("品牌名称")] == "杏林先锋"
    assert rows["内科第一党支部"][header.index("党总支审批状态")] == "已通过 2024-08-29 党总支书记"
    assert str(rows["内科第一党支部"][header.index("申报状态")]).startswith("已提交 2024-")
    assert str(rows["机关第二党支部"][header.index("申报状态")]).startswith("退回")


@pytest.mark.parametrize("profile_id", ["hospital-annual", "college-feature", "university-project", "dangjian-plus"])
def test_demo_runs_for_every_campaign(tmp_path, profile_id):
    """`brandkit demo --profile X`: the same flow on any campaign's samples, its tables in their sheets."""
    from toolkit.core.profile import load_profile

    profile = load_profile(profile_id)
    out = tmp_path / "demo"
    proc = subprocess.run([sys.executable, "-m", "toolkit", "demo", str(out), "--profile", profile_id],
                          capture_output=True, text=True, timeout=900, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-3000:]
    values = roundtrip_values(out / f"{profile.ledger.sheet}.xlsx")
    header = values[profile.ledger.sheet][0]
    rows = [r for r in values[profile.ledger.sheet][1:] if r[header.index(profile.key)]]
    stage = profile.submission_stage.column
    assert sum(str(r[header.index(stage)]).startswith(("已提交", "逾期提交")) for r in rows) >= 2, rows
    for table in profile.tables:
        assert len(values[table.sheet or table.name]) > 2, table.name  # header and the branches' items
    assert (out / "汇总.xlsx").exists() and "盖章：" in proc.stdout
