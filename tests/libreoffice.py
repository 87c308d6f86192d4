"""Open workbooks in a real LibreOffice and read back what it sees.

`roundtrip_values(path)` has headless LibreOffice load the file and save it as a fresh .xlsx, then reads
that copy with python-calamine: the values returned are the ones LibreOffice understood, so a test can
compare them with what brandkit meant to write. Each call uses its own LibreOffice profile directory so
parallel tests never share one.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")


def require_soffice() -> str:
    """Fail (not skip) when LibreOffice is missing: `make test` installs it, so absence is a defect."""
    if not SOFFICE:
        raise AssertionError("LibreOffice (soffice) is not installed; run `make test`, which installs it")
    return SOFFICE


def convert(path: Path, fmt: str, outdir: Path, timeout: float = 180) -> Path:
    soffice = require_soffice()
    with tempfile.TemporaryDirectory(prefix="lo-profile-") as profile:
        env = {**os.environ, "HOME": profile}
        proc = subprocess.run(
            [soffice, f"-env:UserInstallation=file://{profile}", "--headless", "--norestore",
             "--convert-to", fmt, "--outdir", str(outdir), str(path)],
            capture_output=True, text=True, timeout=timeout, env=env)
    out = outdir / f"{path.stem}.{fmt.split(':')[0]}"
    if proc.returncode != 0 or not out.exists():
        raise AssertionError(f"LibreOffice could not open {path.name}: rc={proc.returncode} "
                             f"{proc.stdout.strip()} {proc.stderr.strip()}")
    return out


def roundtrip_values(path: Path) -> dict[str, list[list[Any]]]:
    """{sheet name: rows of values} as LibreOffice read them."""
    from python_calamine import CalamineWorkbook

    with tempfile.TemporaryDirectory(prefix="lo-out-") as tmp:
        out = convert(Path(path), "xlsx", Path(tmp))
        wb = CalamineWorkbook.from_path(str(out))
        return {name: wb.get_sheet_by_name(name).to_python() for name in wb.sheet_names}


def convert_all(paths: list[Path], fmt: str, outdir: Path, timeout: float = 600) -> dict[Path, Path]:
    """Convert many files in ONE LibreOffice start (far cheaper than one start per file): each path ->
    its converted copy in `outdir`. The files' stems must differ, since the copies are named by stem."""
    soffice = require_soffice()
    stems = [p.stem for p in paths]
    assert len(set(stems)) == len(stems), f"two files share a name: {stems}"
    outdir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="lo-profile-") as profile:
        env = {**os.environ, "HOME": profile}
        proc = subprocess.run(
            [soffice, f"-env:UserInstallation=file://{profile}", "--headless", "--norestore",
             "--convert-to", fmt, "--outdir", str(outdir), *map(str, paths)],
            capture_output=True, text=True, timeout=timeout, env=env)
    out = {p: outdir / f"{p.stem}.{fmt.split(':')[0]}" for p in paths}
    missing = [p.name for p, o in out.items() if not o.exists()]
    if proc.returncode != 0 or missing:
        raise AssertionError(f"LibreOffice could not convert {missing}: rc={proc.returncode} "
                             f"{proc.stdout.strip()[-2000:]} {proc.stderr.strip()[-2000:]}")
    return out
