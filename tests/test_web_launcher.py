"""`brandkit launcher`: the desktop file that starts `brandkit serve FOLDER`, made in process for each
system (the Windows .bat and the Linux .desktop checked as the programs that read them would)."""

from __future__ import annotations

import shlex
import stat
import sys
from pathlib import Path, PureWindowsPath

from toolkit.web.launcher import desktop_entry, install_launcher, launcher_name, mac_command, windows_bat

PY_WIN = r"C:\Program Files\brandkit\.venv\Scripts\python.exe"


def test_windows_bat_runs_serve_on_the_folder_in_utf8() -> None:
    folder = PureWindowsPath(r"D:\党建 2025\100%品牌")
    data = windows_bat(PY_WIN, folder)  # type: ignore[arg-type]
    text = data.decode("utf-8")
    lines = text.split("\r\n")
    assert lines[0] == "@echo off" and lines[1] == "chcp 65001 >nul"  # ASCII until the code page is UTF-8
    assert lines[1].isascii() and "\n" not in text.replace("\r\n", "")  # CRLF only
    assert lines[3] == r'"C:\Program Files\brandkit\.venv\Scripts\python.exe" -m toolkit serve "D:\党建 2025\100%%品牌"'
    assert "if errorlevel 1 pause" in lines  # a failure stays on screen
    root = windows_bat(PY_WIN, PureWindowsPath("D:\\")).decode()  # type: ignore[arg-type]
    assert 'serve "D:\\."' in root  # "D:\" would have escaped its own closing quote


def _desktop_exec_args(entry: str) -> list[str]:
    """The Exec line as the Desktop Entry spec reads it: the string escapes first (`\\\\` → `\\`), then
    the arguments (split on spaces; inside double quotes a backslash escapes `"` `` ` `` `$` `\\`), `%%` → `%`."""
    line = next(v for k, _, v in (ln.partition("=") for ln in entry.splitlines()) if k == "Exec")
    line = line.replace("\\\\", "\\")
    args, current, quoted, i = [], "", False, 0
    while i < len(line):
        c = line[i]
        if quoted and c == "\\" and line[i + 1] in '"`$\\':
            current, i = current + line[i + 1], i + 2
            continue
        if c == '"':
            quoted = not quoted
        elif c == " " and not quoted:
            args.append(current)
            current = ""
        else:
            current += c
        i += 1
    return [a.replace("%%", "%") for a in [*args, current]]


def test_linux_desktop_entry_runs_serve_in_a_terminal() -> None:
    folder = Path('/home/干事/党建 "2025"/50%$品牌')
    entry = desktop_entry("/opt/brandkit/bin/python", folder).decode("utf-8")
    keys = dict(line.split("=", 1) for line in entry.splitlines()[1:])
    assert entry.splitlines()[0] == "[Desktop Entry]"
    assert keys["Type"] == "Application" and keys["Terminal"] == "true"
    assert keys["Name"] == "党建品牌工作台（50%$品牌）"
    assert _desktop_exec_args(entry) == ["/opt/brandkit/bin/python", "-m", "toolkit", "serve", str(folder)]


def test_mac_command_is_a_shell_script() -> None:
    text = mac_command("/usr/local/bin/python3", Path("/Users/ganshi/党建 品牌")).decode()
    assert text.startswith("#!/bin/sh\n")
    assert shlex.split(text.splitlines()[1]) == ["exec", "/usr/local/bin/python3", "-m", "toolkit", "serve",
                                                 "/Users/ganshi/党建 品牌"]


def test_install_puts_an_executable_launcher_on_the_desktop(tmp_path: Path) -> None:
    folder = tmp_path / "品牌创建"
    folder.mkdir()
    desktop = tmp_path / "桌面"
    path = install_launcher(folder, desktop, platform="linux")
    assert path.parent == desktop and path.name == launcher_name(folder, "linux") == "党建品牌工作台-品牌创建.desktop"
    assert path.stat().st_mode & stat.S_IXUSR
    assert _desktop_exec_args(path.read_text(encoding="utf-8"))[1:] == ["-m", "toolkit", "serve", str(folder)]
    bat = install_launcher(folder, desktop, platform="win32", python=sys.executable)
    assert bat.suffix == ".bat" and b"\r\n" in bat.read_bytes()


def test_launcher_command(cli, tmp_path: Path) -> None:
    folder = tmp_path / "活动"
    folder.mkdir()
    proc = cli("launcher", folder, "--desktop", tmp_path / "Desktop")
    assert proc.returncode == 0
    assert "已在桌面放置启动图标" in proc.stdout
    assert (tmp_path / "Desktop" / launcher_name(folder, sys.platform)).is_file()
