"""Build an offline wheelhouse: brandkit and every dependency as wheels for Windows x64, macOS (arm64 and
x86_64) and Linux (x86_64 and aarch64, glibc 2.28 as on Kylin V10 / UOS 20), for Python 3.11-3.13, plus
install.bat / install.sh that install from the folder alone (`pip install --no-index --find-links`).

    python scripts/wheelhouse.py                       # everything into ./wheelhouse
    python scripts/wheelhouse.py --target win_amd64 --python 3.12 --out wh-win

Run it on a machine with internet (it asks the index pip is configured for). Nothing is built from
source (`--only-binary=:all:`), except that a dependency published only as an sdist is built once here
when it is pure Python (a py3-none-any wheel runs everywhere); one that needs a compiler and has no wheel
for a target is reported and the build fails.

pip evaluates environment markers (`pywin32; platform_system == "Windows"`) for the machine it runs on,
not for `--platform`, so each target is resolved, its dependency graph re-walked with the target's
markers, the requirements pip missed added, and resolved again until nothing is missing; the wheels are
then downloaded pinned and with --no-deps.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

try:
    from packaging.markers import Marker
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name
except ImportError:  # pragma: no cover - pip always vendors it
    from pip._vendor.packaging.markers import Marker  # type: ignore[no-redef,assignment]
    from pip._vendor.packaging.requirements import Requirement  # type: ignore[no-redef,assignment]
    from pip._vendor.packaging.utils import canonicalize_name  # type: ignore[no-redef,assignment]

ROOT = Path(__file__).resolve().parent.parent
PYTHONS = ("3.11", "3.12", "3.13")
# `pip install --python-version` checks Requires-Python against the target only from pip 24.2 on.
MIN_PIP = (24, 2)
# Kylin V10 and UOS 20 ship glibc 2.28: every manylinux tag up to 2.28 runs there.
_GLIBC_MINORS = range(17, 29)


@dataclass(frozen=True)
class Target:
    key: str
    label: str
    platforms: tuple[str, ...]  # pip --platform values (pip expands macOS versions itself)
    markers: dict[str, str] = field(hash=False)  # PEP 508 environment, without the Python version


def _manylinux(arch: str) -> tuple[str, ...]:
    return (*(f"manylinux_2_{m}_{arch}" for m in reversed(_GLIBC_MINORS)), f"manylinux2014_{arch}")


def _env(sys_platform: str, system: str, machine: str) -> dict[str, str]:
    return {"sys_platform": sys_platform, "platform_system": system, "platform_machine": machine,
            "os_name": "nt" if sys_platform == "win32" else "posix", "implementation_name": "cpython",
            "platform_python_implementation": "CPython", "platform_release": "", "platform_version": ""}


TARGETS = {t.key: t for t in (
    Target("win_amd64", "Windows x64", ("win_amd64",), _env("win32", "Windows", "AMD64")),
    Target("macos_arm64", "macOS（Apple 芯片）", ("macosx_11_0_arm64",), _env("darwin", "Darwin", "arm64")),
    Target("macos_x86_64", "macOS（Intel）", ("macosx_11_0_x86_64",), _env("darwin", "Darwin", "x86_64")),
    Target("linux_x86_64", "Linux x86_64（glibc ≥ 2.28）", _manylinux("x86_64"), _env("linux", "Linux", "x86_64")),
    Target("linux_aarch64", "Linux aarch64（glibc ≥ 2.28）", _manylinux("aarch64"),
           _env("linux", "Linux", "aarch64")),
)}


class WheelhouseError(Exception):
    """A target that cannot be served from wheels alone; the message says which package and why."""


@dataclass(frozen=True)
class Pin:
    name: str  # canonical
    version: str
    filename: str  # the wheel pip chose for the target


# -- pip -------------------------------------------------------------------------------------------

def pip_env(scratch: Path) -> dict[str, str]:
    """Environment for running `python -m pip`: this interpreter's pip when it is new enough, else a
    current pip installed into `scratch` and put first on PYTHONPATH (the venv itself is left alone)."""
    env = dict(os.environ, PIP_DISABLE_PIP_VERSION_CHECK="1")
    try:
        import pip

        version = tuple(int(x) for x in re.findall(r"\d+", pip.__version__)[:2])
    except ImportError:  # pragma: no cover
        version = (0, 0)
    if version >= MIN_PIP:
        return env
    target = scratch / "pip"
    if not (target / "pip").is_dir():
        _run([sys.executable, "-m", "pip", "install", "--quiet", "--target", str(target),
              f"pip>={MIN_PIP[0]}.{MIN_PIP[1]}"], env)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(target), env.get("PYTHONPATH")]))
    return env


def _run(cmd: Sequence[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(list(cmd), env=env, capture_output=True, text=True, encoding="utf-8",
                          errors="replace")
    if proc.returncode:
        raise subprocess.CalledProcessError(proc.returncode, cmd, proc.stdout, proc.stderr)
    return proc


def _target_args(target: Target, python: str) -> list[str]:
    args = ["--only-binary=:all:", "--implementation", "cp", "--python-version", python]
    for platform in target.platforms:
        args += ["--platform", platform]
    return args


# -- resolving -------------------------------------------------------------------------------------

def project_requirements(root: Path = ROOT) -> list[str]:
    """brandkit's runtime dependencies, as pyproject.toml lists them."""
    with open(root / "pyproject.toml", "rb") as fh:
        return list(tomllib.load(fh)["project"]["dependencies"])


def _unmarked(req: Requirement) -> str:
    bare = Requirement(str(req))
    bare.marker = None
    return str(bare)


def _applies(marker: Marker | None, env: dict[str, str], extra: str = "") -> bool:
    return marker is None or marker.evaluate({**env, "extra": extra})


def walk(roots: Iterable[str], report: dict[str, Any], env: dict[str, str]) -> tuple[list[Pin], list[str]]:
    """The distributions of a pip report that `roots` need on the target (`env`), and the requirements
    the target needs that the report lacks (pip judged their markers for this machine instead)."""
    by_name: dict[str, Any] = {canonicalize_name(item["metadata"]["name"]): item for item in report["install"]}
    needed: dict[str, set[str]] = {}
    missing: list[str] = []
    queue = [Requirement(r) for r in roots]
    while queue:
        req = queue.pop()
        name = canonicalize_name(req.name)
        if name not in by_name:
            if _unmarked(req) not in missing:
                missing.append(_unmarked(req))
            continue
        active = needed.setdefault(name, set())  # extras taken so far ("" is the base)
        new = [e for e in ("", *sorted(req.extras)) if e not in active]
        if not new:
            continue
        active.update(new)
        for line in by_name[name]["metadata"].get("requires_dist") or []:
            dep = Requirement(line)
            if any(_applies(dep.marker, env, extra) for extra in new):
                queue.append(dep)
    pins = [Pin(name, by_name[name]["metadata"]["version"],
                by_name[name]["download_info"]["url"].rsplit("/", 1)[-1].split("#", 1)[0])
            for name in sorted(needed)]
    return pins, missing


def marker_env(target: Target, python: str) -> dict[str, str]:
    return {**target.markers, "python_version": python, "python_full_version": f"{python}.0",
            "implementation_version": f"{python}.0"}


def resolve(target: Target, python: str, requirements: Sequence[str], *, env: dict[str, str],
            find_links: Sequence[Path] = (), build_into: Path | None = None) -> list[Pin]:
    """Pinned wheels for `requirements` on `target` under `python`, found without building anything
    (pip reads each candidate wheel's metadata; `--dry-run` installs nothing). With `build_into`, a
    dependency published only as a pure-Python sdist is built there once and found through it."""
    roots = [r for r in requirements if _applies(Requirement(r).marker, marker_env(target, python))]
    wanted = list(roots)
    links = [*find_links, *([build_into] if build_into else [])]
    with tempfile.TemporaryDirectory(prefix="wheelhouse-") as tmp:
        for _ in range(10):
            report_path = Path(tmp) / "report.json"
            cmd = [sys.executable, "-m", "pip", "install", "--quiet", "--dry-run", "--ignore-installed",
                   "--target", str(Path(tmp) / "target"), "--report", str(report_path),
                   *_target_args(target, python)]
            for link in links:
                cmd += ["--find-links", str(link)]
            try:
                _run([*cmd, *wanted], env)
            except subprocess.CalledProcessError as exc:
                lacking = _lacking(exc.stderr)
                if lacking is None or build_into is None:
                    raise WheelhouseError(_pip_failure(target, python, exc.stderr)) from None
                build_pure_wheel(lacking, target, python, build_into, env)
                continue
            report = json.loads(report_path.read_text(encoding="utf-8"))
            pins, missing = walk(roots, report, marker_env(target, python))
            if not missing:
                return pins
            wanted += [m for m in missing if m not in wanted]
    raise WheelhouseError(f"{target.label} · Python {python}：依赖关系反复变化，无法确定（{', '.join(wanted)}）")


def _lacking(stderr: str) -> str | None:
    m = re.search(r"No matching distribution found for (\S+)", stderr)
    return m.group(1) if m else None


def _pip_failure(target: Target, python: str, stderr: str) -> str:
    lacking = _lacking(stderr)
    if lacking:
        return (f"{target.label} · Python {python}：{lacking} 没有适用的 wheel（安装包），"
                "离线安装无法包含它；请换用有 wheel 的版本，或去掉这个平台/版本（--target/--python）")
    tail = "\n".join(stderr.strip().splitlines()[-8:])
    return f"{target.label} · Python {python}：pip 无法解析依赖：\n{tail}"


def build_pure_wheel(spec: str, target: Target, python: str, into: Path, env: dict[str, str]) -> Path:
    """Build `spec` from its sdist once when it is pure Python (py3-none-any runs on every target);
    a package that ships compiled wheels for other machines, or builds to one, is reported instead."""
    into.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="wheelhouse-build-") as tmp:
        try:  # a binary wheel for this machine means a compiled package: building here would not help
            _run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
                  "--dest", str(Path(tmp) / "probe"), spec], env)
        except subprocess.CalledProcessError:
            pass
        else:
            raise WheelhouseError(f"{target.label} · Python {python}：{spec} 需要编译，而 PyPI 上没有这个平台的"
                                  "wheel；请换用有 wheel 的版本，或去掉这个平台/版本（--target/--python）")
        try:
            _run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-binary", ":all:",
                  "--wheel-dir", str(Path(tmp) / "built"), spec], env)
        except subprocess.CalledProcessError as exc:
            raise WheelhouseError(_pip_failure(target, python, exc.stderr)) from None
        wheels = list((Path(tmp) / "built").glob("*.whl"))
        if len(wheels) != 1 or not wheels[0].name.endswith("-none-any.whl"):
            raise WheelhouseError(f"{target.label} · Python {python}：{spec} 只有源码包且不是纯 Python，"
                                  "无法做成通用 wheel")
        dest = into / wheels[0].name
        shutil.move(str(wheels[0]), dest)
        print(f"  {spec} 只有源码包：已在本机做成通用 wheel {dest.name}", flush=True)
        return dest


# -- the folder ------------------------------------------------------------------------------------

def download(target: Target, python: str, pins: Sequence[Pin], dest: Path, env: dict[str, str],
             find_links: Sequence[Path] = ()) -> None:
    cmd = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--dest", str(dest),
           *_target_args(target, python)]
    for link in find_links:
        cmd += ["--find-links", str(link)]
    try:
        _run([*cmd, *(f"{p.name}=={p.version}" for p in pins)], env)
    except subprocess.CalledProcessError as exc:
        raise WheelhouseError(_pip_failure(target, python, exc.stderr)) from None


def build_own_wheel(dest: Path, env: dict[str, str], root: Path = ROOT) -> Path:
    before = set(dest.glob("brandkit-*.whl"))
    for old in before:
        old.unlink()
    try:
        _run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", str(dest), str(root)],
             env)
    except subprocess.CalledProcessError as exc:
        raise WheelhouseError(f"无法生成 brandkit 自己的 wheel：\n{exc.stderr.strip()[-2000:]}") from None
    return next(dest.glob("brandkit-*.whl"))


_INSTALL_SH = r"""#!/bin/sh
# brandkit offline install for macOS and Linux: run `sh install.sh` in this folder.
# Installs from this folder only, no internet: pip install --no-index --find-links this-folder brandkit
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
SUPPORTED="@PYTHONS@"

fits() {
  "$1" -c "import struct, sys; sys.exit(0 if '%d.%d' % sys.version_info[:2] in '$SUPPORTED'.split() and struct.calcsize('P') == 8 else 1)" >/dev/null 2>&1
}

PY="${BRANDKIT_PYTHON:-}"
if [ -z "$PY" ]; then
  for v in $SUPPORTED; do
    for c in "python$v" "/usr/local/bin/python$v" "/Library/Frameworks/Python.framework/Versions/$v/bin/python$v" "$HOME/.local/bin/python$v"; do
      if command -v "$c" >/dev/null 2>&1 && fits "$c"; then PY="$c"; break 2; fi
    done
  done
fi
if [ -z "$PY" ] && command -v python3 >/dev/null 2>&1 && fits python3; then PY=python3; fi
if [ -z "$PY" ]; then
  echo "没有找到可用的 Python：需要 64 位 Python @PYTHON_WORDS@。" >&2
  echo "macOS：先安装随本文件夹带来的 python.org 安装包（python-3.12.x-macos11.pkg），再运行 sh install.sh。" >&2
  echo "Linux（麒麟、统信）：先安装 Python 3.11 或更新版本（见 README“离线安装”一节）；" >&2
  echo "也可以指定：BRANDKIT_PYTHON=/路径/python3.12 sh install.sh" >&2
  exit 1
fi
echo "使用 $PY（Python $("$PY" -c 'import sys; print(sys.version.split()[0])')）安装 brandkit……"

LINK=""
if ! "$PY" -m pip --version >/dev/null 2>&1 || "$PY" -c "import os, sys, sysconfig; sys.exit(0 if sys.prefix == sys.base_prefix and os.path.exists(os.path.join(sysconfig.get_path('stdlib'), 'EXTERNALLY-MANAGED')) else 1)"; then
  # The system's Python is managed by the distribution (or has no pip): use a private environment.
  VENV="$HOME/.brandkit/venv"
  echo "系统自带的 Python 不允许直接安装，改为安装到独立环境 $VENV"
  if ! "$PY" -m venv "$VENV"; then
    echo "无法建立独立环境：请先安装 python3-venv（或 python3.11-venv）软件包，再运行 sh install.sh。" >&2
    exit 1
  fi
  PY="$VENV/bin/python"
  LINK=1
fi

if ! "$PY" -m pip install --disable-pip-version-check --upgrade --no-index --find-links "$HERE" brandkit; then
  echo "安装失败：请把上面的提示发给管理员。常见原因：这个文件夹里没有本机系统或 Python 版本的安装包。" >&2
  exit 1
fi
if ! "$PY" -m toolkit --help >/dev/null 2>&1; then
  echo "安装后 brandkit 无法运行，请把下面的提示发给管理员：" >&2
  "$PY" -m toolkit --help
  exit 1
fi
if [ -n "$LINK" ]; then
  mkdir -p "$HOME/.local/bin"
  ln -sf "$VENV/bin/brandkit" "$HOME/.local/bin/brandkit"
  echo "命令位置：$HOME/.local/bin/brandkit（提示找不到命令时，把 $HOME/.local/bin 加入 PATH）"
fi
echo "安装完成。检查：brandkit --help（或 $PY -m toolkit --help）"
if [ "$(uname -s)" = "Darwin" ]; then
  echo "要使用 Excel 按钮，请再运行一次：$PY -m xlwings.cli runpython install"
fi
"""

_INSTALL_BAT = r"""@echo off
chcp 65001 >nul
setlocal EnableExtensions
rem brandkit offline install for Windows: double-click this file.
rem Installs from this folder only, no internet: pip install --no-index --find-links this-folder brandkit
set "HERE=%~dp0."
set "PY="
for %%V in (@PYTHONS@) do (
  if not defined PY (
    py -%%V -c "import struct, sys; sys.exit(struct.calcsize('P') != 8)" >nul 2>nul && set "PY=py -%%V"
  )
)
if not defined PY (
  python -c "import struct, sys; sys.exit(not (sys.version_info[:2] in (@PYTHON_TUPLES@) and struct.calcsize('P') == 8))" >nul 2>nul && set "PY=python"
)
if not defined PY (
  echo 没有找到可用的 Python：需要 64 位 Python @PYTHON_WORDS@。
  echo 请先运行随本文件夹带来的 python-3.12.x-amd64.exe 安装 Python，安装时勾选 "Add python.exe to PATH"，
  echo 然后重新双击 install.bat。
  pause
  exit /b 1
)
echo 使用 %PY% 安装 brandkit……
%PY% -m pip install --disable-pip-version-check --upgrade --no-index --find-links "%HERE%" brandkit
if errorlevel 1 goto failed
%PY% -m toolkit --help >nul 2>nul
if errorlevel 1 goto failed
echo.
echo 安装完成。检查：打开“命令提示符”运行 brandkit --help（提示找不到命令时运行 %PY% -m toolkit --help）。
pause
exit /b 0
:failed
echo.
echo 安装失败：请把上面的提示截图发给管理员。常见原因：这个文件夹里没有本机 Python 版本的安装包。
pause
exit /b 1
"""

_README = """brandkit 离线安装包
==================

在不能上网的电脑上安装 brandkit：

Windows：先安装 Python（随本文件夹带来的 python-3.12.x-amd64.exe，安装时勾选 “Add python.exe to PATH”），
         再双击 install.bat。
macOS：  先安装 Python（python.org 的 macOS 安装包），再在“终端”中运行：sh install.sh
Linux：  （麒麟、统信，x86_64 或 ARM）需要 Python 3.11 或更新版本，在终端中运行：sh install.sh

本文件夹包含的平台：{targets}
Python 版本：{pythons}
"""


def write_installers(dest: Path, pythons: Sequence[str], targets: Sequence[Target]) -> None:
    order = sorted(pythons, key=lambda v: (v != "3.12", v))  # 3.12 first: the installer the README names
    words = "、".join(pythons)
    sh = (_INSTALL_SH.replace("@PYTHONS@", " ".join(order)).replace("@PYTHON_WORDS@", words))
    bat = (_INSTALL_BAT.replace("@PYTHONS@", " ".join(order)).replace("@PYTHON_WORDS@", words)
           .replace("@PYTHON_TUPLES@", "".join(f"({v.replace('.', ', ')}), " for v in pythons).strip()))
    (dest / "install.sh").write_bytes(sh.encode("utf-8"))
    (dest / "install.sh").chmod(0o755)
    (dest / "install.bat").write_bytes(bat.replace("\n", "\r\n").encode("utf-8"))  # cmd wants CRLF
    readme = _README.format(targets="、".join(t.label for t in targets), pythons=words)
    (dest / "README.txt").write_bytes(readme.replace("\n", "\r\n").encode("utf-8-sig"))


def build(out: Path, targets: Sequence[Target], pythons: Sequence[str], jobs: int = 3) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    requirements = project_requirements()
    with tempfile.TemporaryDirectory(prefix="wheelhouse-pip-") as scratch:
        env = pip_env(Path(scratch))
        own = build_own_wheel(out, env)
        print(f"brandkit：{own.name}", flush=True)

        def one(job: tuple[Target, str]) -> list[Pin]:
            target, python = job
            pins = resolve(target, python, requirements, env=env, build_into=out)
            print(f"{target.label} · Python {python}：{len(pins)} 个依赖", flush=True)
            return pins

        # Resolving fills pip's cache with every wheel it reads; the pinned downloads then copy from it,
        # one target at a time so no two pips write the same file.
        work = [(t, p) for t in targets for p in pythons]
        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            resolved = list(pool.map(one, work))
        for (target, python), pins in zip(work, resolved, strict=True):
            download(target, python, pins, out, env, find_links=[out])
    write_installers(out, pythons, targets)
    return sorted(out.glob("*.whl"))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=ROOT / "wheelhouse", help="folder to fill (default ./wheelhouse)")
    parser.add_argument("--target", action="append", choices=sorted(TARGETS),
                        help="platform (repeatable; default: all)")
    parser.add_argument("--python", action="append", choices=PYTHONS, help="Python version (repeatable; default: all)")
    parser.add_argument("--jobs", type=int, default=3, help="targets resolved at once (default 3)")
    args = parser.parse_args(argv)
    targets = [TARGETS[k] for k in (args.target or TARGETS)]
    pythons = list(dict.fromkeys(args.python or PYTHONS))
    try:
        wheels = build(args.out, targets, pythons, args.jobs)
    except WheelhouseError as exc:
        print(f"离线安装包没有做成：{exc}", file=sys.stderr)
        return 1
    size = sum(w.stat().st_size for w in wheels) / 1e6
    print(f"完成：{args.out} 共 {len(wheels)} 个 wheel，{size:.0f} MB；连同 install.bat / install.sh 一起拷走即可。")
    return 0


if __name__ == "__main__":
    sys.exit(main())
