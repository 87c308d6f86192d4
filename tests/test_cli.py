"""The command line's promises: light start-up, exit codes, --json anywhere, no tracebacks.

Start-up imports and exit codes are checked in a real subprocess, as a shell or a button sees them; the
rest goes through the `cli` fixture (click's CliRunner, in process)."""

from __future__ import annotations

import json
import os
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
    for heavy in ("pandas", "openpyxl", "PIL", "matplotlib", "xlwings", "python_calamine",
                  "toolkit.web", "starlette", "jinja2", "uvicorn", "multipart", "python_multipart"):
        assert heavy not in imported, f"brandkit --help imports {heavy}"


# The `brandkit` script pip writes, as it writes it: multiprocessing runs it again in every worker it
# starts (to rebuild __main__), so what it imports, each worker imports.
_SCRIPT = """import re
import sys
from toolkit.__main__ import main
if __name__ == '__main__':
    sys.argv[0] = re.sub(r'(-script\\.pyw|\\.exe)?$', '', sys.argv[0])
    sys.exit(main())
"""


def _worker_view() -> dict:
    import sys

    server_exit = sys.modules.get("toolkit.files.server_exit")
    return {"click": "click" in sys.modules, "cli": "toolkit.cli" in sys.modules,
            "leaves_at_once": bool(server_exit and server_exit.LEAVES_AT_ONCE)}


def test_workers_of_the_brandkit_script_do_not_import_the_command_line(tmp_path):
    """pyproject's entry point is toolkit.__main__:main, a module that imports nothing heavy at the top:
    a worker started under the `brandkit` script rebuilds __main__ from the script without loading
    click and the command line (~25 ms a worker, the master's reader included). Where workers come
    from a fork server (not Windows), the server leaves at once when the command ends."""
    import tomllib
    from importlib import metadata

    entry = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["scripts"]["brandkit"]
    assert entry == "toolkit.__main__:main"
    script = tmp_path / "brandkit_script.py"
    script.write_text(_SCRIPT.replace("if __name__", "from tests.test_cli import _worker_view\n\n"
                                      "if __name__ == '__main__' and sys.argv[1:] == ['probe']:\n"
                                      "    import json\n"
                                      "    from toolkit.files.sandbox import run_isolated\n"
                                      "    print(json.dumps(dict(run_isolated(_worker_view, [(0, ())], timeout_s=60,"
                                      " memory_bytes=0, workers=1))[0]))\n"
                                      "elif __name__", 1), encoding="utf-8")
    proc = subprocess.run([sys.executable, str(script), "probe"], capture_output=True, text=True, cwd=ROOT,
                          timeout=120, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 0, proc.stderr
    view = json.loads(proc.stdout)
    assert view["click"] is False and view["cli"] is False, view
    assert view["leaves_at_once"] is (sys.platform != "win32"), view
    # the script itself still runs the command line
    proc = subprocess.run([sys.executable, str(script), "--version"], capture_output=True, text=True, cwd=ROOT,
                          timeout=60, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 0 and metadata.version("brandkit") in proc.stdout, proc.stderr


def test_server_exit_is_inert_outside_the_fork_server():
    """Imported anywhere but inside the fork server's main, toolkit.files.server_exit registers nothing:
    the process exits with its own code, its exit handlers run."""
    code = ("import atexit, multiprocessing.forkserver, sys\n"
            "atexit.register(lambda: print('handlers ran'))\n"
            "import toolkit.files.server_exit as s\n"
            "print(s.LEAVES_AT_ONCE)\n"
            "sys.exit(3)\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert proc.returncode == 3, proc.stderr
    assert proc.stdout.split() == ["False", "handlers", "ran"]


def test_command_name_is_found_past_the_group_options():
    """The entry point starts the workers' server before click parses anything: it must find the
    subcommand past the group's options (--lang takes a value) and never mistake an option for it."""
    from toolkit.__main__ import _command_name

    assert _command_name(["-q", "merge", "台账.xlsx", "收件箱"]) == "merge"
    assert _command_name(["--lang", "en", "--json", "stamp", "台账.xlsx"]) == "stamp"
    assert _command_name(["--lang=zh", "merge"]) == "merge"
    assert _command_name(["--debug"]) is None
    assert _command_name(["--lang", "merge"]) is None  # "merge" is --lang's value here (click will say so)


def test_profiles_lists_all_five(cli):
    proc = cli("profiles", "--json")
    ids = [p["id"] for p in json.loads(proc.stdout)["profiles"]]
    assert ids == sorted(["hospital-brand", "hospital-annual", "college-feature", "university-project",
                          "dangjian-plus"])


def test_profile_details_show_the_notices_words(cli):
    """`profiles --profile X`: the notice's printed labels, the stage the form belongs to, the notes."""
    text = cli("profiles", "--profile", "hospital-brand").stdout
    for words in ("党建品牌的 创建计划、 创建举措、 预期成效 (2000字以内)", "可分栏填写：创建计划、创建举措、预期成效",
                  "申报（申报表在此阶段提交）", "“三个一”", "8116室", "不存入台账"):
        assert words in text, words
    doc = json.loads(cli("--json", "profiles", "--profile", "dangjian-plus").stdout)
    assert doc["doc_number"] == "连中医委〔2024〕13号"
    assert [s["name"] for s in doc["stages"] if s["submission"]] == ["调查摸底"]
    assert any("11月31日" in n for n in doc["notes"])


def test_exit_codes_and_json_shape(tmp_path, make_form):
    good = make_form(0, name="good.xlsx")
    proc = run("--json", "validate", str(good), "--profile", "hospital-brand")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    (entry,) = doc["files"]
    assert set(entry) >= {"path", "sheet", "branch", "status", "fields", "pictures", "findings"}
    assert entry["status"] == "warning"  # blank signatures in the e-copy only
    assert entry["fields"]["党员总数"] == 20 and entry["fields"]["联系方式"] == "13812345670"
    from toolkit.core.profile import load_profile
    from toolkit.files.templates import template_field_cells

    logo_cell = template_field_cells(load_profile("hospital-brand"))["品牌标识"]
    assert entry["pictures"][0]["scheme"] == "drawing" and entry["pictures"][0]["cell"] == logo_cell
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


def test_validate_orders_resubmissions_by_the_intake_manifest(tmp_path, cli):
    """The manifest's received time, not the file's mtime, decides which copy is the newer one."""
    inbox = tmp_path / "收件箱"
    inbox.mkdir()
    for name, n in (("a.xlsx", 0), ("b.xlsx", 1)):
        write_filled_form(inbox / name, form_values(*BRANDS[0], n), logo=logo_bytes())
    (inbox / "inbox.jsonl").write_text(
        '{"path": "a.xlsx", "sender": "x@example.cn", "received": "2026-05-02T10:00:00+08:00"}\n'
        '{"path": "b.xlsx", "sender": "x@example.cn", "received": "2026-05-01T10:00:00+08:00"}\n',
        encoding="utf-8")
    doc = json.loads(cli("--json", "validate", inbox, "--profile", "hospital-brand").stdout)
    rules = {Path(f["path"]).name: {x["rule"] for x in f["findings"]} for f in doc["files"]}
    assert "duplicate_submission" in rules["b.xlsx"] and "duplicate_submission" not in rules["a.xlsx"]


def test_help_and_usage_errors_speak_chinese_by_default_and_english_on_request():
    """Help, examples and click's own usage errors in Chinese; `--lang en` (before or after the command)
    or BRANDKIT_LANG=en in English. A subprocess each: the language is process state."""
    env = {k: v for k, v in os.environ.items() if k != "BRANDKIT_LANG"}

    def shown(*args: str, **extra: str) -> str:
        proc = subprocess.run([sys.executable, "-m", "toolkit", *args], capture_output=True, text=True,
                              timeout=60, cwd=ROOT, env={**env, **extra})
        return proc.stdout + proc.stderr

    top = shown("--help")
    assert "用法：" in top and "把通过校验的申报表合并进台账。" in top and "显示本帮助后退出。" in top
    merge = shown("merge", "--help")
    assert "只显示将要做的改动，不写入台账。" in merge and "示例：" in merge and "brandkit merge 品牌台账.xlsx" in merge
    typo = shown("merge", "--dryrun", "x.xlsx", "y")
    assert "错误：未知选项 '--dryrun'" in typo and "您是否指的是 '--dry-run'" in typo
    assert "没有 'mrege' 这个命令" in shown("mrege")
    for english in (shown("--lang", "en", "merge", "--help"), shown("merge", "--help", "--lang", "en"),
                    shown("merge", "--help", BRANDKIT_LANG="en")):
        assert "Usage:" in english and "Show what would change; write nothing." in english
        assert "Examples:" in english and "只显示" not in english
    assert "No such option" in shown("merge", "--dryrun", "x", "y", "--lang", "en")


def test_every_help_text_of_every_command_has_its_chinese():
    """A new option's English help, shown as is to a Chinese user, is what this catches (two did)."""
    import click

    from toolkit.cli import main
    from toolkit.cli_text import HELP

    def texts(command: click.Command):
        yield command.name, command.help
        for param in command.params:
            yield f"{command.name} {param.opts[0]}", getattr(param, "help", None)
        if isinstance(command, click.Group):
            ctx = click.Context(command)
            for name in command.list_commands(ctx):
                yield from texts(command.get_command(ctx, name))

    shown = [(where, text) for where, text in texts(main) if text]
    assert len(shown) > 60  # the walk reached every command's options
    untranslated = [where for where, text in shown if text.strip() not in HELP]
    assert not untranslated, f"no Chinese in toolkit/cli_text.py HELP for: {untranslated}"


def test_global_options_are_taken_before_or_after_the_command():
    from toolkit.cli_base import hoist_global_options

    assert hoist_global_options(["merge", "m.xlsx", "in", "--json", "-q", "--lang", "en"]) == \
        ["--json", "-q", "--lang", "en", "merge", "m.xlsx", "in"]
    assert hoist_global_options(["stamp", "m.xlsx", "--note", "x", "--", "--json"]) == \
        ["stamp", "m.xlsx", "--note", "x", "--", "--json"]
