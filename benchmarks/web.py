"""The local page's speed: the home page's server time on a master of 500 branches, and the merge
preview's time for 300 forms beside the CLI's dry run of the same merge.

    python benchmarks/web.py [BRANCHES [FORMS]]        (default: 500 300)

The page is driven in process through its ASGI app (Starlette's TestClient: the server's own time,
no browser, no network); the preview is timed from the POST until its job's result is served. The CLI
runs `brandkit merge --dry-run` in a subprocess (start-up included, as a user waits for it). The forms
are benchmarks/merge.py's: notice 000's layout, one in four as .docx, each with a ~1 MB photo logo.
"""

from __future__ import annotations

import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
PORT = 8765


def client(folder: Path):  # noqa: ANN201
    from starlette.testclient import TestClient

    from toolkit.web.app import create_app
    from toolkit.web.security import Session

    session = Session()
    c = TestClient(create_app(folder, session, PORT), base_url=f"http://127.0.0.1:{PORT}")
    c.get(f"/login?token={session.launch}")
    c.headers["X-CSRF-Token"] = session.csrf
    return c


def master_of(folder: Path, branches: int) -> Path:
    folder.mkdir(parents=True)
    roster = folder.parent / f"roster-{branches}.csv"
    roster.write_text("党总支,党支部名称\n" + "".join(f"第{i % 25}党总支,第{i + 1:04d}党支部\n" for i in range(branches)),
                      encoding="utf-8")
    master = folder / "品牌台账.xlsx"
    subprocess.run([sys.executable, "-m", "toolkit", "init", str(master), "--profile", "hospital-brand",
                    "--roster", str(roster)], check=True, cwd=ROOT, capture_output=True)
    return master


def home_page(folder: Path, runs: int = 5) -> list[float]:
    c = client(folder)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        r = c.get("/")
        times.append(time.perf_counter() - start)
        assert r.status_code == 200 and "各党总支进度" in r.text, r.text[:500]
    return times


def preview(folder: Path) -> float:
    c = client(folder)
    start = time.perf_counter()
    r = c.post("/merge/preview")
    job = re.search(r'hx-get="(/jobs/[^"]+)"', r.text)
    assert job, r.text[:500]
    while True:
        body = c.get(job.group(1)).text
        if 'class="job"' not in body:
            took = time.perf_counter() - start
            assert 'id="preview"' in body, body[:500]
            return took
        time.sleep(0.05)


def main(branches: int, forms: int) -> None:
    from benchmarks.merge import build

    with tempfile.TemporaryDirectory(prefix="bk-web-bench-") as tmp:
        home = Path(tmp) / "home"
        master_of(home, branches)
        times = home_page(home)
        print(f"home page, {branches} branches: median {statistics.median(times) * 1000:.0f} ms "
              f"(first {times[0] * 1000:.0f} ms, {len(times)} requests)", flush=True)

        folder = Path(tmp) / "merge"
        folder.mkdir()
        print(f"building {forms} forms…", flush=True)
        inbox, master = build(folder, forms)
        inbox.rename(folder / "收件箱")
        master.rename(folder / "品牌台账.xlsx")
        t_page = preview(folder)
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "toolkit", "-q", "merge", str(folder / "品牌台账.xlsx"),
                        str(folder / "收件箱"), "--dry-run"], cwd=ROOT, capture_output=True, check=False)
        t_cli = time.perf_counter() - start
        print(f"merge preview, {forms} forms: page {t_page:.2f} s, CLI --dry-run {t_cli:.2f} s "
              f"(page/CLI = {t_page / t_cli:.2f}×)", flush=True)


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:]]
    main(*(args + [500, 300][len(args):]))
