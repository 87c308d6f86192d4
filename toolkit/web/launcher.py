"""`brandkit launcher FOLDER`: an icon on the desktop that starts `brandkit serve FOLDER` and opens the
page, for people who never open a terminal. One file per system, its text made by a pure function:

* Windows: `<name>.bat` (UTF-8 after `chcp 65001`, CRLF; `%` doubled as cmd wants), a console window
  that shows the address and stops the server when closed.
* Kylin, UOS and other Linux desktops: `<name>.desktop` (Desktop Entry spec quoting; Terminal=true),
  made executable (and marked trusted where `gio` exists, as GNOME-based desktops ask).
* macOS: `<name>.command`, which Finder opens in Terminal.
"""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

from toolkit.core.errors import UsageProblem
from toolkit.files.atomic import write_atomic
from toolkit.files.filenames import safe_name

TITLE = "党建品牌工作台"
_DESKTOP_RESERVED = set(" \t\n\"'\\><~|&;$*?#()`")


def launcher_name(folder: Path, platform: str) -> str:
    suffix = ".bat" if platform == "win32" else ".command" if platform == "darwin" else ".desktop"
    return safe_name(f"{TITLE}-{folder.name or 'brandkit'}", suffix=suffix)


def command(python: str, folder: Path) -> list[str]:
    return [python, "-m", "toolkit", "serve", str(folder)]


def windows_bat(python: str, folder: Path) -> bytes:
    """A .bat for cmd.exe: UTF-8 once `chcp 65001` has run (the first line is ASCII), CRLF line ends."""
    for text in (python, str(folder)):
        if '"' in text or "\n" in text or "\r" in text:
            raise UsageProblem(f"路径中含有引号或换行，无法写入启动文件：{text}")
    where = str(folder) + ("." if str(folder).endswith("\\") else "")  # "D:\" would escape its closing quote
    run = f'"{python}" -m toolkit serve "{where}"'
    lines = ["@echo off", "chcp 65001 >nul", f"title {TITLE}", run.replace("%", "%%"), "if errorlevel 1 pause"]
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")


def desktop_entry(python: str, folder: Path) -> bytes:
    """A freedesktop .desktop file (Kylin, UOS, deepin, GNOME, KDE …) that runs the server in a terminal."""
    def arg(text: str) -> str:
        if not _DESKTOP_RESERVED & set(text):
            return text
        return '"' + "".join("\\" + c if c in '"`$\\' else c for c in text) + '"'

    def value(text: str) -> str:  # the string escapes, applied before the Exec quoting is read
        return text.replace("\\", "\\\\").replace("\n", "\\n").replace("\t", "\\t").replace("\r", "\\r")

    exec_line = " ".join(arg(a) for a in command(python, folder)).replace("%", "%%")
    lines = ["[Desktop Entry]", "Type=Application", "Version=1.0",
             f"Name={value(f'{TITLE}（{folder.name}）')}", f"Comment={value(f'在浏览器中打开 {folder} 的{TITLE}')}",
             f"Exec={value(exec_line)}", "Terminal=true", "Icon=x-office-spreadsheet", "Categories=Office;",
             "StartupNotify=false"]
    return ("\n".join(lines) + "\n").encode("utf-8")


def mac_command(python: str, folder: Path) -> bytes:
    return ("#!/bin/sh\n" + "exec " + shlex.join(command(python, folder)) + "\n").encode("utf-8")


def launcher_text(python: str, folder: Path, platform: str) -> bytes:
    if platform == "win32":
        return windows_bat(python, folder)
    if platform == "darwin":
        return mac_command(python, folder)
    return desktop_entry(python, folder)


def install_launcher(folder: Path, desktop: Path | None = None, platform: str = sys.platform,
                     python: str | None = None) -> Path:
    """Write the launcher for `folder` on the desktop (platformdirs finds it: 桌面 on a Chinese Linux,
    a OneDrive-redirected Desktop on Windows). Returns its path."""
    folder = Path(folder).resolve()
    if not folder.is_dir():
        raise UsageProblem(f"找不到活动文件夹：{folder}")
    if desktop is None:
        from platformdirs import user_desktop_dir

        desktop = Path(user_desktop_dir())
    desktop.mkdir(parents=True, exist_ok=True)
    target = desktop / launcher_name(folder, platform)
    write_atomic(target, launcher_text(python or _python(), folder, platform))
    if platform != "win32":
        target.chmod(0o755)
    if platform.startswith("linux"):
        _trust(target)
    return target


def _python() -> str:
    """The interpreter brandkit runs in; pythonw.exe (the buttons') would hide the console with the address."""
    exe = Path(sys.executable)
    if exe.name.lower() == "pythonw.exe" and exe.with_name("python.exe").exists():
        return str(exe.with_name("python.exe"))
    return str(exe)


def _trust(path: Path) -> None:
    """GNOME-based desktops (UOS among them) run a .desktop file only once it is marked trusted."""
    import shutil
    import subprocess

    gio = shutil.which("gio")
    if gio:
        subprocess.run([gio, "set", str(path), "metadata::trusted", "true"], capture_output=True, timeout=10,
                       check=False)
