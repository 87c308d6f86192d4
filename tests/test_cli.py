"""The command line's promises: light start-up, exit codes, --json anywhere, no tracebacks."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.forms import BRANDS, form_values, logo_bytes, write_filled_form

ROOT = Path(__file__).resolve().parents[1]


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "toolkit", *args], capture_output=True, text=True,
                          cwd=cwd or ROOT, timeout=600)


def test_help_imports_no_heavy_module():
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "toolkit", "--help"],
                          capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert proc.returncode == 0
    imported = {line.rsplit("|", 1)[-1].strip() for line in proc.stderr.splitlines() if "|" in line}
    assert "toolkit.cli" in imported  # the probe itself works
    for heavy in ("pandas", "openpyxl", "PIL", "matplotlib", "xlwings", "python_calamine"):
        assert heavy not in imported, f"brandkit --help imports {heavy}"


def test_profiles_lists_all_five():
    proc = run("profiles", "--json")
    ids = [p["id"] for p in json.loads(proc.stdout)["profiles"]]
    assert ids == sorted(["hospital-brand", "hospital-annual", "college-feature", "university-project",
                          "dangjian-plus"])


def test_exit_codes_and_json_shape(tmp_path):
    good = write_filled_form(tmp_path / "good.xlsx", form_values(*BRANDS[0]), logo=logo_bytes())
    proc = run("--json", "validate", str(good), "--profile", "hospital-brand")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    (entry,) = doc["files"]
    assert set(entry) >= {"path", "sheet", "branch", "status", "fields", "pictures", "findings"}
    assert entry["status"] == "warning"  # blank signatures in the e-copy only
    assert entry["fields"]["党员总数"] == 20 and entry["fields"]["联系方式"] == "13812345670"
    assert entry["pictures"][0]["scheme"] == "drawing" and entry["pictures"][0]["cell"] == "B4"
    assert {f["rule"] for f in entry["findings"]} == {"required"}

    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(b"PK\x03\x04 truncated")
    proc = run("validate", str(bad), "--profile", "hospital-brand", "--json")  # --json after the command
    assert proc.returncode == 1
    assert json.loads(proc.stdout)["files"][0]["status"] == "unreadable"
    assert "Traceback" not in proc.stderr

    proc = run("validate", str(good), "--profile", "no-such-campaign")
    assert proc.returncode == 2 and "活动方案" in proc.stderr and "Traceback" not in proc.stderr
    proc = run("validate", str(tmp_path / "missing.xlsx"), "--profile", "hospital-brand")
    assert proc.returncode == 2 and "找不到" in proc.stderr


def test_validate_orders_resubmissions_by_the_intake_manifest(tmp_path):
    """The manifest's received time, not the file's mtime, decides which copy is the newer one."""
    inbox = tmp_path / "收件箱"
    inbox.mkdir()
    for name, n in (("a.xlsx", 0), ("b.xlsx", 1)):
        write_filled_form(inbox / name, form_values(*BRANDS[0], n), logo=logo_bytes())
    (inbox / "inbox.jsonl").write_text(
        '{"path": "a.xlsx", "sender": "x@example.cn", "received": "2026-05-02T10:00:00+08:00"}\n'
        '{"path": "b.xlsx", "sender": "x@example.cn", "received": "2026-05-01T10:00:00+08:00"}\n',
        encoding="utf-8")
    doc = json.loads(run("--json", "validate", str(inbox), "--profile", "hospital-brand").stdout)
    rules = {Path(f["path"]).name: {x["rule"] for x in f["findings"]} for f in doc["files"]}
    assert "duplicate_submission" in rules["b.xlsx"] and "duplicate_submission" not in rules["a.xlsx"]
