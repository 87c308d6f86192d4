"""A hostile batch: each bad file gets a clear Chinese message, the good one is still validated, memory
and time stay bounded, and nothing prints a traceback."""

from __future__ import annotations

import json
import os
import resource
import struct
import subprocess
import sys
import zipfile
import zlib
from pathlib import Path

import pytest

from tests.forms import BRANDS, form_values, logo_bytes, write_filled_form
from tests.paths import CORPUS

ROOT = Path(__file__).resolve().parents[1]


def _rezip(src: Path, dst: Path, replace: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            zout.writestr(info.filename, replace.pop(info.filename, zin.read(info.filename)))
        for name, data in replace.items():
            zout.writestr(name, data)
    return dst


def _huge_png_header(width: int, height: int) -> bytes:
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunk = lambda kind, body: (struct.pack(">I", len(body)) + kind + body  # noqa: E731
                                + struct.pack(">I", zlib.crc32(kind + body)))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b"")


def build_hostile_set(folder: Path) -> dict[str, str]:
    """name -> a word the message must contain."""
    import xlsxwriter

    good = write_filled_form(folder / "good.xlsx", form_values(*BRANDS[0]), logo=logo_bytes())
    expect = {}
    wb = xlsxwriter.Workbook(str(folder / "far_cells.xlsx"))
    ws = wb.add_worksheet()
    ws.write("A1", "x")
    ws.write("XFD1048576", "y")
    wb.close()
    expect["far_cells.xlsx"] = "范围"
    _rezip(good, folder / "zip_bomb.xlsx", {"xl/worksheets/sheet9.xml": b" " * (60 * 1024 * 1024)})
    expect["zip_bomb.xlsx"] = "膨胀"
    laughs = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">'
              b']><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>&lol2;</t></si></sst>')
    _rezip(good, folder / "billion_laughs.xlsx", {"xl/sharedStrings.xml": laughs})
    expect["billion_laughs.xlsx"] = "不安全"
    xxe = (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
           b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>&e;</t></si></sst>')
    _rezip(good, folder / "xxe.xlsx", {"xl/sharedStrings.xml": xxe})
    expect["xxe.xlsx"] = "不安全"
    with zipfile.ZipFile(good) as zf:
        media = next(n for n in zf.namelist() if n.startswith("xl/media/"))
    _rezip(good, folder / "huge_logo.xlsx", {media: _huge_png_header(20000, 12000)})
    expect["huge_logo.xlsx"] = "像素"
    (folder / "html.xls").write_bytes(b"<html><body><p>not a table</p></body></html>")
    expect["html.xls"] = "不是"
    (folder / "empty.xlsx").write_bytes(b"")
    expect["empty.xlsx"] = "空"
    (folder / "truncated.xlsx").write_bytes(good.read_bytes()[:3000])
    expect["truncated.xlsx"] = "损坏"
    (folder / "random.xls").write_bytes(os.urandom(20000))
    expect["random.xls"] = "不是"
    (folder / "encrypted.xlsx").write_bytes((CORPUS / "calamine" / "pass_protected.xlsx").read_bytes())
    expect["encrypted.xlsx"] = "加密"
    return expect


@pytest.mark.slow  # the whole CLI in a subprocess over a hostile batch (it measures the child's memory)
def test_hostile_batch(tmp_path):
    expect = build_hostile_set(tmp_path)
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    proc = subprocess.run([sys.executable, "-m", "toolkit", "--json", "validate", str(tmp_path),
                           "--profile", "hospital-brand"], capture_output=True, text=True, timeout=300, cwd=ROOT)
    peak_kb = max(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, before)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr[-3000:]
    files = {Path(f["path"]).name: f for f in json.loads(proc.stdout)["files"]}
    assert files["good.xlsx"]["status"] == "warning"  # validated normally: blank e-copy signatures only
    assert files["good.xlsx"]["fields"]["品牌名称"] == BRANDS[0][1]
    for name, word in expect.items():
        messages = " ".join(f["message"] for f in files[name]["findings"])
        assert word in messages, (name, messages)
        assert files[name]["status"] in ("unreadable", "error")
    assert files["huge_logo.xlsx"]["findings"][0]["rule"] in ("image_size", "unreadable")
    assert peak_kb < 1024 * 1024, f"peak RSS {peak_kb // 1024} MB"


@pytest.mark.slow  # waits out a 2 s worker timeout
def test_a_crashing_reader_does_not_stop_the_batch(tmp_path):
    """The sandbox survives a worker that dies outright (as calamine aborts on hostile input)."""
    from toolkit.files.sandbox import Failure, run_isolated

    results = dict(run_isolated(os._exit, [(1, (3,)), (2, (4,))], timeout_s=10, memory_bytes=0, workers=1))
    assert results == {1: Failure("crashed"), 2: Failure("crashed")}
    results = dict(run_isolated(_sleep_or_echo, [("slow", (30,)), ("fast", (0,))], timeout_s=2,
                                memory_bytes=0, workers=2))
    assert results["slow"] == Failure("timeout") and results["fast"] == 0


def _sleep_or_echo(seconds: int) -> int:
    import time

    time.sleep(seconds)
    return seconds


@pytest.mark.slow  # 200 items through the sandbox, one batch split and retried item by item
def test_a_crash_inside_a_batch_fails_only_that_item():
    """Large runs are batched; the batch holding a crashing item is split and retried item by item."""
    from toolkit.files.sandbox import Failure, run_isolated

    jobs = [(n, (3 if n == 37 else 0,)) for n in range(200)]
    results = dict(run_isolated(_exit_on_three, jobs, timeout_s=20, memory_bytes=0, workers=2))
    assert results.pop(37) == Failure("crashed")
    assert results == {n: 0 for n in range(200) if n != 37}


def _exit_on_three(code: int) -> int:
    if code == 3:
        os._exit(3)
    return code


def test_a_reader_exception_keeps_its_detail_for_the_maintainer(tmp_path):
    from toolkit.commands.batch import failed_submission
    from toolkit.files.sandbox import Failure
    from toolkit.readers.limits import DEFAULT_LIMITS

    sub = failed_submission(tmp_path / "表.xlsx", Failure("error", "AttributeError: boom"), DEFAULT_LIMITS)
    (finding,) = sub.findings
    assert finding.rule == "unreadable" and finding.message.startswith("表.xlsx：")
    assert "另存为" in finding.message and "详情：AttributeError: boom" in finding.message
    crashed = failed_submission(tmp_path / "表.xlsx", Failure("crashed"), DEFAULT_LIMITS).findings[0].message
    assert "详情" not in crashed
