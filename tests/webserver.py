"""Run `brandkit serve` for real (a subprocess, as a user starts it) and build a campaign folder for it."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.paths import ROOT, SAMPLES

OPERATOR = "党办干事"


@contextmanager
def served(folder: Path) -> Iterator[tuple[subprocess.Popen, str]]:
    """`brandkit serve FOLDER --no-browser` in a subprocess: (the process, the one-time address it
    printed). Stopped with Ctrl-C's signal (SIGINT) on leaving, and expected to stop cleanly."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "BRANDKIT_OPERATOR": OPERATOR, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "toolkit", "serve", str(folder), "--no-browser"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, encoding="utf-8", env=env,
                            cwd=ROOT)
    try:
        url = None
        assert proc.stdout is not None
        for line in proc.stdout:
            found = re.search(r"http://\S+", line)
            if found:
                url = found.group(0)
                break
        assert url, "brandkit serve printed no address"
        yield proc, url
    finally:
        import signal

        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise


def campaign_folder(folder: Path, mails: Path) -> Path:
    """A campaign folder holding a fresh hospital-brand master (the sample roster), and beside it the
    sample forms as the branches' mails (`brandkit demo`'s), to upload. Returns the master."""
    from toolkit.commands.batch import collect_paths
    from toolkit.commands.demo import write_sample_mail
    from toolkit.commands.init import init_master
    from toolkit.commands.profiles import resolve_profile

    profile = resolve_profile("hospital-brand")
    folder.mkdir(parents=True)
    write_sample_mail(collect_paths([SAMPLES / "hospital-brand"]), mails, profile)
    master = folder / "品牌台账.xlsx"
    init_master(master, profile.id, SAMPLES / "rosters" / "hospital-brand_支部名单.xlsx", operator=OPERATOR)
    return master


def copy_campaign(master: Path, folder: Path) -> Path:
    folder.mkdir(parents=True)
    return Path(shutil.copy2(master, folder / master.name))
