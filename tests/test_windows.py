"""brandkit where offices work (issue 18): the runtime on Windows, macOS and Linux alike.

The Windows-like tier runs brandkit in a Python that behaves as Windows would where brandkit's code
differs by platform (tests/windowslike/sitecustomize.py: no `resource`, no `fcntl`, no
`os.posix_fadvise`, folders cannot be opened for fsync, `os.replace` onto a held file raises
PermissionError, optionally no stdout/stderr as under pythonw.exe), and checks that it does what the
normal run does, with memory still bounded. The rest: the shared safe-name function, the cp936 console,
the unpacker watch, the job-object layout.
"""

from __future__ import annotations

import ctypes
import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.forms import form_values, logo_bytes, write_filled_form
from tests.paths import ROOT
from toolkit.files.filenames import MAX_BYTES, MAX_UNITS, safe_name
from toolkit.files.transaction import backups_of

WINDOWSLIKE = ROOT / "tests" / "windowslike"
MB = 1024 * 1024


@dataclass
class Run:
    returncode: int
    stdout: bytes
    stderr: bytes
    peak_mb: float  # the largest resident set of the process and every process under it

    @property
    def text(self) -> str:
        return self.stdout.decode("utf-8")


# Starts `python ARGS` from a small process and reports its peak: a child's ru_maxrss on Linux starts from
# the resident size of the process it was forked from (kept across exec), so a child forked straight from
# pytest, hundreds of MB by the end of the suite, would report pytest's size, not its own.
_MEASURED = """
import json, os, sys
pid = os.fork()
if pid == 0:
    os.execve(sys.executable, [sys.executable, *sys.argv[3:]], json.loads(sys.argv[2]))
_, status, usage = os.wait4(pid, 0)
with open(sys.argv[1], "w") as fh:
    fh.write(str(usage.ru_maxrss))
sys.exit(os.waitstatus_to_exitcode(status))
"""


def run(*args: str, windows: bool, env: dict[str, str] | None = None, timeout: float = 600) -> Run:
    """`python ARGS` from the checkout, Windows-like or not; its peak memory measured by wait4 (the
    maximum over the process and all its reaped descendants: the sandbox workers)."""
    environ = {**os.environ, **(env or {})}
    if windows:
        environ["PYTHONPATH"] = os.pathsep.join([str(WINDOWSLIKE), str(ROOT)])
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, \
            tempfile.TemporaryDirectory() as tmp:
        peak = Path(tmp) / "maxrss"
        # the measuring process runs as this one does (the Windows-like Python has no wait4), the child as asked
        proc = subprocess.Popen([sys.executable, "-c", _MEASURED, str(peak), json.dumps(environ), *args], stdout=out,
                                stderr=err, cwd=ROOT, start_new_session=True)
        timer = threading.Timer(timeout, lambda: os.killpg(proc.pid, 9))
        timer.start()
        try:
            proc.wait()
        finally:
            timer.cancel()
        out.seek(0)
        err.seek(0)
        kb = int(peak.read_text()) if peak.exists() else 0
        return Run(proc.returncode, out.read(), err.read(), kb / 1024)


# -- the demo, end to end, as on Windows ------------------------------------------------------------------

@pytest.fixture(scope="module")
def demos(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, Run]]:
    """`brandkit demo` (intake → validate → merge → stamp → summary), normally and Windows-like."""
    out = {}
    for kind in ("normal", "windows"):
        folder = tmp_path_factory.mktemp(kind) / "demo"
        out[kind] = folder, run("-m", "toolkit", "demo", str(folder), windows=kind == "windows")
    return out


def _stamped(text: str, folder: Path) -> str:
    """Output with the run's folder and the backup's time stamp taken out."""
    return re.sub(r"\d{8}-\d{6}-\d{6}", "<time>", text.replace(str(folder), "<demo>"))


def _workbook_values(path: Path) -> dict[str, list[list[object]]]:
    """Every sheet's values, with the times the log writes (now) taken out."""
    import openpyxl

    wb = openpyxl.load_workbook(path, data_only=True)
    now = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")
    return {ws.title: [["<time>" if isinstance(v, str) and now.match(v) else v for v in row]
                       for row in ws.iter_rows(values_only=True)] for ws in wb.worksheets}


def _outputs(folder: Path) -> dict[str, str]:
    """Every file the demo leaves, by name (hidden ones aside: locks, backups); the files brandkit copies
    (inbox attachments, logo originals) by content too."""
    out = {}
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder)
        if path.is_file() and not any(part.startswith(".") for part in rel.parts):
            copied = rel.parts[0] in ("收件箱", "品牌台账_标识") and path.suffix != ".jsonl"
            out[str(rel)] = hashlib.sha256(path.read_bytes()).hexdigest() if copied else ""
    return out


@pytest.mark.slow
def test_demo_is_the_same_where_python_behaves_as_on_windows(demos: dict[str, tuple[Path, Run]]) -> None:
    (normal_dir, normal), (windows_dir, windows) = demos["normal"], demos["windows"]
    for r in (normal, windows):
        assert r.returncode == 0 and b"Traceback" not in r.stderr, r.stderr[-3000:].decode()
    # the same verdicts, merge outcomes, stamps and summary, step by step
    assert _stamped(windows.text, windows_dir) == _stamped(normal.text, normal_dir)
    assert "合计：退回 8，新增 10。" in normal.text
    # the same master, cell for cell, and the same reports, logo originals and attachments
    assert _workbook_values(windows_dir / "品牌台账.xlsx") == _workbook_values(normal_dir / "品牌台账.xlsx")
    assert _outputs(windows_dir) == _outputs(normal_dir)
    assert any(Path(name).parts[0] == "品牌台账_标识" for name in _outputs(windows_dir))


@pytest.mark.slow
def test_a_master_held_open_by_excel_is_refused_in_chinese_and_left_untouched(
        demos: dict[str, tuple[Path, Run]], tmp_path: Path) -> None:
    master = tmp_path / "台账" / "品牌台账.xlsx"
    master.parent.mkdir()
    master.write_bytes((demos["windows"][0] / "品牌台账.xlsx").read_bytes())
    before = master.read_bytes()
    r = run("-m", "toolkit", "stamp", str(master), "--stage", "党总支审批", "--status", "退回", "--force",
            "--branch", "内科第一党支部", windows=True, env={"BRANDKIT_SIM_HELD": str(master)})
    message = r.stderr.decode("utf-8")
    assert r.returncode == 2, message
    assert f"无法写入 {master}" in message and "Excel/WPS" in message and "未改动" in message
    assert "Traceback" not in message and "内部错误" not in message
    assert master.read_bytes() == before
    assert not backups_of(master)  # no backup of an apply that did not happen
    # released: the same command goes through
    assert run("-m", "toolkit", "stamp", str(master), "--stage", "党总支审批", "--status", "退回", "--force",
               "--branch", "内科第一党支部", windows=True).returncode == 0
    assert master.read_bytes() != before


# -- memory stays bounded without rlimits ------------------------------------------------------------------

@pytest.mark.slow
def test_hostile_files_stay_bounded_without_rlimits(tmp_path: Path) -> None:
    """The zip bomb, the 240-Mpx picture and the rest of the hostile set, Windows-like: refused by the
    limits before parsing, the good form still read, the whole run under the 1 GiB worker budget."""
    from tests.test_hostile import build_hostile_set

    expect = build_hostile_set(tmp_path)
    r = run("-m", "toolkit", "--json", "validate", str(tmp_path), "--profile", "hospital-brand", windows=True)
    assert r.returncode == 1 and b"Traceback" not in r.stderr, r.stderr[-3000:].decode()
    files = {Path(f["path"]).name: f for f in json.loads(r.text)["files"]}
    assert files["good.xlsx"]["status"] == "warning"
    for name, word in expect.items():
        assert word in " ".join(f["message"] for f in files[name]["findings"]), name
    assert files["huge_logo.xlsx"]["findings"][0]["rule"] in ("image_size", "unreadable")
    assert r.peak_mb < 1024, f"peak RSS {r.peak_mb:.0f} MB"


def eat_memory(mb: int) -> int:
    """Sandbox job: take `mb` MB, 16 MB at a time, touching every page (as a parser growing a grid)."""
    chunks = []
    for _ in range(mb // 16):
        chunks.append(b"x" * (16 * MB))
        time.sleep(0.01)
    return len(chunks)


WATCHED = """
import json, sys
from tests.test_windows import eat_memory
from toolkit.files.portable import memory_cap_enforced
from toolkit.files.sandbox import run_isolated
results = dict(run_isolated(eat_memory, [("greedy", (4000,)), ("modest", (32,))], timeout_s=120,
                            memory_bytes=400 * 1024 * 1024, workers=2))
print(json.dumps({"capped_by_os": memory_cap_enforced(), **{k: repr(v) for k, v in results.items()}}))
"""


@pytest.mark.slow
@pytest.mark.parametrize("windows", [False, True], ids=["rlimit", "watchdog"])
def test_a_worker_over_its_memory_budget_fails_only_its_item(windows: bool) -> None:
    """With RLIMIT_AS (Linux) the OS refuses the memory; without (Windows, macOS) the parent's watchdog
    kills the worker. Either way the greedy item fails as "crashed", the other one is done, and no
    process of the run ever held much more than the 400 MB budget (4 GB were asked for)."""
    r = run("-c", WATCHED, windows=windows)
    assert r.returncode == 0, r.stderr[-3000:].decode()
    detail = "" if windows else "MemoryError"  # killed from outside, or refused inside the worker
    assert json.loads(r.text) == {"capped_by_os": not windows, "modest": "2",
                                  "greedy": f"Failure(reason='crashed', detail='{detail}')"}
    assert r.peak_mb < 400 + 200, f"peak RSS {r.peak_mb:.0f} MB"


# -- the buttons under pythonw.exe ----------------------------------------------------------------------

BUTTON = """
import json, sys
from pathlib import Path
from tests.xlremote import remote_book
from toolkit.excel.master_template import INBOX
import toolkit.xl
book = remote_book(Path(sys.argv[1]), {INBOX: sys.argv[2]})
toolkit.xl.merge_inbox()
Path(sys.argv[3]).write_text(json.dumps(book.json()["actions"]), encoding="utf-8")
"""


@pytest.mark.slow
def test_the_merge_button_works_under_pythonw(tmp_path: Path) -> None:
    """xlwings runs buttons in pythonw.exe: no stdout or stderr, in the button's process and in every
    sandbox worker it starts. The merge still reads the inbox in workers, writes the ledger and reports."""
    from tests.test_xl import _console, _master
    from tests.xlremote import Replay
    from toolkit.commands.template import write_template

    master, inbox = _master(tmp_path)
    write_template("hospital-brand", master, as_master=True)  # as the profile is now
    actions = tmp_path / "actions.json"
    r = run("-c", BUTTON, str(master), str(inbox), str(actions), windows=True,
            env={"BRANDKIT_SIM_PYTHONW": "1", "XLWINGS_LICENSE_KEY": "noncommercial"})
    assert r.returncode == 0 and r.stdout == b"" and r.stderr == b"", r
    replay = Replay.of(master).play(json.loads(actions.read_text(encoding="utf-8")))
    assert replay.saved
    console = _console(replay)
    assert str(console["result"]).endswith("合并完成：新增 2 个。台账已保存"), console


# -- output encoding: a Chinese Windows console or pipe (code page 936) ------------------------------------

@pytest.mark.slow
def test_cp936_output_never_fails_on_characters_outside_gbk(tmp_path: Path) -> None:
    values = form_values("吉𠮷党支部", "红心😀向党", "内科")
    values["联系方式"] = "139😀𠮷"  # refused, and quoted in the message
    form = write_filled_form(tmp_path / "吉𠮷党支部.xlsx", values, logo=logo_bytes())
    args = ("-m", "toolkit", "validate", str(form), "--profile", "hospital-brand")

    human = run(*args, windows=True, env={"PYTHONIOENCODING": "cp936"})
    assert human.returncode == 1 and b"Traceback" not in human.stderr, human.stderr[-3000:].decode("cp936")
    text = human.stdout.decode("cp936")  # what the console shows: every byte is cp936
    assert "吉\\U00020bb7党支部" in text and "139\\U0001f600\\U00020bb7" in text and "不通过" in text

    as_json = run("-m", "toolkit", "--json", *args[2:], windows=True, env={"PYTHONIOENCODING": "cp936"})
    assert as_json.returncode == 1, as_json.stderr[-3000:].decode("cp936")
    (found,) = json.loads(as_json.stdout.decode("utf-8"))["files"]
    assert found["fields"]["品牌名称"] == "红心😀向党" and found["branch"] == "吉𠮷党支部"
    assert "139😀𠮷" in " ".join(f["message"] for f in found["findings"])


# -- the unpacker's output is bounded everywhere -----------------------------------------------------------

WRITER = "import sys\nwith open(sys.argv[1], 'wb') as f:\n    for _ in range(int(sys.argv[2])):\n        f.write(bytes(1 << 20))\n"


@pytest.mark.parametrize("rlimit", [True, False], ids=["rlimit-fsize", "watched"])
def test_an_unpacker_writing_too_much_is_stopped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                 rlimit: bool) -> None:
    """A rar bomb: the tool is stopped near the per-file cap, by RLIMIT_FSIZE where the OS has it and by
    the folder watch where it does not (Windows)."""
    from toolkit.mail import archives
    from toolkit.mail.types import Limits

    if not rlimit:
        monkeypatch.setattr(archives, "file_size_cap", lambda _max_bytes: None)
    out = tmp_path / "out"
    out.mkdir()
    limits = Limits(attachment_bytes=8 * MB)
    assert archives.run_unpacker([sys.executable, "-c", WRITER, str(out / "big"), "4"], out, limits) == "ok"
    assert archives.run_unpacker([sys.executable, "-c", WRITER, str(out / "big"), "2048"], out, limits) == "too_large"
    assert (out / "big").stat().st_size < 512 * MB  # stopped long before the 2 GB it meant to write


# -- the shared safe-name function -------------------------------------------------------------------------

@pytest.mark.parametrize(("raw", "safe"), [
    ("CON", "_CON"), ("con.xlsx", "_con.xlsx"), ("NUL .txt", "_NUL .txt"), ("Aux.tar.gz", "_Aux.tar.gz"),
    ("COM1.xlsx", "_COM1.xlsx"), ("lpt9", "_lpt9"), ("COM¹.png", "_COM¹.png"), ("LPT³", "_LPT³"),
    ("CONIN$", "_CONIN$"), ("conout$.txt", "_conout$.txt"),
    ("COM10.xlsx", "COM10.xlsx"), ("CONSOLE.xlsx", "CONSOLE.xlsx"), ("内科CON.xlsx", "内科CON.xlsx"),
    ("申报表. . .", "申报表"), ("申报表.xlsx ", "申报表.xlsx"), ("  ..申报表", "申报表"),
    ('a<b>c:d"e/f\\g|h?i*j.xlsx', "a_b_c_d_e_f_g_h_i_j.xlsx"), ("名\x00称\x1f\x7f.png", "名_称__.png"),
    ("..", "未命名"), ("", "未命名"), ("???", "未命名"), ("第一党支部", "第一党支部"),
])
def test_safe_name_makes_names_windows_accepts(raw: str, safe: str) -> None:
    assert safe_name(raw) == safe


def _fits_everywhere(name: str) -> bool:
    return (len(name.encode("utf-8")) <= min(MAX_BYTES, 255) and len(name.encode("utf-16-le")) // 2 <= min(MAX_UNITS, 200)
            and name == name.rstrip(" .") and not re.search(r'[<>:"/\\|?*\x00-\x1f]', name))


@pytest.mark.parametrize("raw", [
    "中共某某医院内科第一党支部" * 20 + ".xlsx",  # 3 bytes a character: the byte limit binds
    "Internal-Medicine-Branch-" * 20 + ".xlsx",  # 1 byte a character: the UTF-16 limit binds
    "𠮷😀" * 80 + ".png",  # 4 bytes and 2 UTF-16 units a character
    "党" * 300, "x." * 200,
])
def test_long_names_are_cut_to_fit_and_end_in_a_hash(raw: str) -> None:
    name = safe_name(raw)
    assert _fits_everywhere(name), (name, len(name.encode()), len(name.encode("utf-16-le")) // 2)
    assert re.search(r"~[0-9a-f]{8}(\.\w+)?$", name), name
    if raw.endswith((".xlsx", ".png")):
        assert name.endswith(raw[raw.rindex("."):])  # the extension survives the cut
    assert safe_name(raw) == name  # deterministic: the same attachment gets the same name


def test_two_long_names_never_end_alike() -> None:
    base = "中共某某医院内科第一党支部关于一支部一品牌创建的申报材料" * 5
    names = {safe_name(f"{base}{n}.xlsx") for n in range(1000)}
    assert len(names) == 1000 and all(_fits_everywhere(n) for n in names)


def test_our_suffix_is_kept_whole() -> None:
    """Report and logo names end in brandkit's own suffix: it is never cut (a report named after a long
    form still ends in _校验结果.xlsx, so the next validate skips it)."""
    from toolkit.commands.batch import REPORT_SUFFIX

    long_stem = "某某医院党委关于开展一支部一品牌创建活动的申报表（修改稿）" * 4
    name = safe_name(long_stem, suffix=f"{REPORT_SUFFIX}.xlsx")
    assert name.endswith("_校验结果.xlsx") and _fits_everywhere(name)
    assert safe_name("内科/外科联合党支部", suffix=".jpg") == "内科_外科联合党支部.jpg"
    assert safe_name("CON", suffix="_校验结果.xlsx") == "CON_校验结果.xlsx"  # not a device name
    assert safe_name("NUL", suffix=".png") == "_NUL.png"


# -- Windows job object ---------------------------------------------------------------------------------

def test_job_object_structures_match_the_windows_headers() -> None:
    """The ctypes layout of JOBOBJECT_EXTENDED_LIMIT_INFORMATION (winnt.h): 144 bytes on 64-bit Windows
    with ProcessMemoryLimit at offset 112; 112 bytes and offset 96 on 32-bit."""
    from toolkit.files.portable import JobExtendedLimits

    wide = ctypes.sizeof(ctypes.c_void_p) == 8
    assert ctypes.sizeof(JobExtendedLimits) == (144 if wide else 112)
    assert JobExtendedLimits.ProcessMemoryLimit.offset == (112 if wide else 96)


def test_a_build_without_resource_still_reads_forms(tmp_path: Path) -> None:
    """A Python whose `resource` module is missing (Windows, a trimmed build), with nothing imported
    before it is hidden: the memory watch must not need psutil's Linux backend (which imports it)."""
    (tmp_path / "sitecustomize.py").write_text(
        "import os, sys\nsys.modules['resource'] = None\nsys.modules['fcntl'] = None\n"
        "if hasattr(os, 'posix_fadvise'):\n    del os.posix_fadvise\n", encoding="utf-8")
    sample = next((ROOT / "samples" / "hospital-brand").glob("01_*.xlsx"))
    proc = subprocess.run([sys.executable, "-m", "toolkit", "--json", "validate", str(sample), "--profile",
                           "hospital-brand"], capture_output=True, text=True, timeout=120, cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(tmp_path)})
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert [f["status"] for f in json.loads(proc.stdout)["files"]] == ["ok"]
