"""Merge speed: brandkit vs the naive openpyxl way vs the floor, on the same files in the same run.

    python benchmarks/merge.py [--repeat R] [--prose templated|varied] [N ...]   (default: 50 300 1000, R = 3)

Builds N branch forms in notice 000's own layout (one in four as a Word .docx, as notices attach them),
each with a ~1 MB photo-like JPEG logo, and a master listing those N branches.
Then times, each as a whole process (interpreter start-up included on every side): `brandkit merge`
(the CLI) and the floor (read every form's values with calamine and draft-decode every logo to a
thumbnail on all cores, writing nothing; the logos inflated with the ISA-L inflate brandkit itself uses,
the workers' allocator set up as brandkit's are) and the floor with the keeping (the floor plus each
file's sha256 and each logo's original written and fsynced as brandkit stages it: what a merge that keeps
every file's provenance and every original cannot skip), in turn R times, and the naive way once
(openpyxl: read each form, write the values and logos into the master, save once). Prints min / median /
max, the ratios pair by pair, peak RSS and CPU seconds summed over each process tree (psutil; CPU time
drifts less than wall time on a shared machine), the CPU of the processes under each command (the
workers: brandkit's readers against the floor's with the keeping) apart from the command's own process
(brandkit's start-up, checks, plan and apply), the master's size after the merge, and where brandkit's
time went (BRANDKIT_PHASES).
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import statistics
import sys
import tempfile
import zipfile
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))


def photo(seed: int) -> bytes:
    """A noisy 1600×1200 JPEG (~1 MB): photos, not flat logos, are what branches send."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(seed)
    base = np.linspace(0, 255, 1600 * 1200 * 3).reshape(1200, 1600, 3)
    noise = rng.integers(0, 90, (1200, 1600, 3))
    out = io.BytesIO()
    Image.fromarray(((base + noise) % 256).astype("uint8")).save(out, "JPEG", quality=92)
    return out.getvalue()


DOCX_EVERY = 4  # one form in four arrives as the Word table the notice attached


def build(folder: Path, n: int, prose: str = "templated") -> tuple[Path, Path]:
    """N forms typed in notice 000's own layout (not brandkit's template), one in DOCX_EVERY as .docx,
    each logo a distinct photo; and a master listing the N branches. `prose`: "templated", the test
    forms' stock phrases (~600 字 in the 2000-字 box); "varied", ~1,500 字 there and ~180 in 品牌内涵 of
    varied words (benchmarks/similar.py), as plans from different departments bring."""
    from similar import varied

    from tests.notice_forms import hospital_brand, write_docx, write_xlsx

    inbox = folder / "inbox"
    inbox.mkdir()
    pictures = [photo(s) for s in range(1, 9)]
    texts = (varied(n, 180, seed=8, copies=False), varied(n, 1500, copies=False)) if prose == "varied" else None
    branches = []
    for i in range(n):
        branch = f"第{i + 1:04d}党支部"
        branches.append(branch)
        form = hospital_brand(branch, i)
        if texts:  # 品牌内涵 and the 2000-字 box, rows 2 and 3 of the printed form
            form.rows[2:4] = [(form.rows[2][0], texts[0][i]), (form.rows[3][0], texts[1][i])]
        form.logo = pictures[i % len(pictures)]
        path = (write_docx(form, inbox / f"{i:04d}.docx") if i % DOCX_EVERY == DOCX_EVERY - 1 else
                write_xlsx(form, inbox / f"{i:04d}.xlsx"))
        _make_unique(path, i)
    from measure import new_master

    return inbox, new_master(folder, branches)


def _make_unique(path: Path, salt: int) -> None:
    """Make each logo unique (no cache can help) by appending a comment segment's worth of bytes."""
    tmp = path.with_suffix(".tmp")
    with zipfile.ZipFile(path) as zin, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            body = zin.read(info)
            if info.filename.startswith(MEDIA):
                body = body[:-2] + salt.to_bytes(4, "big") + body[-2:]
            zout.writestr(info, body)
    tmp.replace(path)


MEDIA = ("xl/media/", "word/media/")
# Where a script written for notice 000's printed layout finds each value (tests/notice_forms.py).
NAIVE_CELLS = {"党支部名称": "B2", "党员总数": "D2", "品牌名称": "B3", "品牌内涵": "B4",
               "党建品牌的创建计划、创建举措、预期成效": "B5", "填表人": "B8", "联系方式": "D8"}


def naive(inbox: Path, master: Path) -> None:
    """The way an office automates it by hand: openpyxl for the sheets (python-docx for the Word
    forms), values from fixed cells, pictures added, the master saved once."""
    import docx
    import openpyxl
    from openpyxl.drawing.image import Image as XlImage

    wb = openpyxl.load_workbook(master)
    ws = wb["品牌台账"]
    header = [c.value for c in ws[1]]
    row = {ws.cell(r, header.index("党支部名称") + 1).value: r for r in range(2, ws.max_row + 1)}
    for form in sorted(inbox.iterdir()):
        if form.suffix == ".docx":
            doc = docx.Document(str(form))
            table = doc.tables[0]
            values = {k: table.cell(int(ref[1:]) - 2, ord(ref[0]) - 65).text for k, ref in NAIVE_CELLS.items()}
            blob = next(part.blob for part in doc.part.package.parts if part.partname.startswith("/word/media/"))
        else:
            fs = openpyxl.load_workbook(form).active
            values = {k: fs[ref].value for k, ref in NAIVE_CELLS.items()}
            blob = fs._images[0]._data()
        r = row[values["党支部名称"]]
        for k, v in values.items():
            ws.cell(r, header.index(k) + 1, v)
        img = XlImage(io.BytesIO(blob))
        img.width, img.height = 96, 72
        ws.add_image(img, f"F{r}")
    wb.save(master)


_writer = ThreadPoolExecutor(1)  # a floor worker's writer thread, as brandkit's workers have one
_keeping: list[Future[Path]] = []


def _floor_one(path: str, isal: bool = False, keep: str | None = None, write: bool = True) -> int:
    """Read one form's values (calamine for a sheet, lxml over the document for Word) and draft-decode
    its logo to a thumbnail: the least any merge must do. With `keep` (a folder), also what a merge that
    keeps every file's provenance and every logo's original cannot skip: the file's sha256, and each
    logo written there as brandkit stages it (fsynced, dropped from the cache, in a writer thread that
    overlaps the decoding); `write=False`: the sha256 only (benchmarks/keeping.py weighs the two)."""
    from lxml import etree
    from PIL import Image
    from python_calamine import CalamineWorkbook

    from toolkit.files.atomic import write_atomic
    from toolkit.readers.zipparts import read_member

    with open(path, "rb") as fh:
        data = fh.read()
    digest = hashlib.sha256(data).hexdigest() if keep else ""
    while len(_keeping) > 1:  # at most one earlier logo's write pending: bounded, as a worker's batch is
        _keeping.pop(0).result()
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        if path.endswith(".docx"):
            cells = len(etree.fromstring(zf.read("word/document.xml")).findall(".//{*}tc"))
        else:
            cells = len(CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_index(0).to_python())
        for n, name in enumerate(zf.namelist()):
            if name.startswith(MEDIA):
                blob = read_member(zf, name, 1 << 30) if isal else zf.read(name)
                if keep and blob and write:
                    _keeping.append(_writer.submit(write_atomic, Path(keep, f"{digest}-{n}.jpg"), blob,
                                                   keep_cached=False, sync_folder=False))
                with Image.open(io.BytesIO(blob)) as img:
                    img.draft("RGB", (192, 144))
                    img.thumbnail((192, 144))
    return cells


def floor(inbox: Path, keep: Path | None = None, write: bool = True) -> None:
    """On all cores, each worker's allocator set up as brandkit's workers are (reuse_freed_memory): the
    floor gets every low-level advantage brandkit has, as it gets the same inflate. `keep`: the floor
    with the keeping (_floor_one); a worker's last writes finish before it exits (a process joins its
    threads at shutdown), so before this returns."""
    from toolkit.files.portable import reuse_freed_memory

    with ProcessPoolExecutor(os.cpu_count(), initializer=reuse_freed_memory) as pool:
        one = partial(_floor_one, isal=True, keep=str(keep) if keep else None, write=write)
        list(pool.map(one, map(str, sorted(inbox.iterdir())), chunksize=8))


REPEAT = 3  # brandkit and the floor, in turn: the machine's drift falls on both


def main(sizes: list[int], repeat: int = REPEAT, prose: str = "templated") -> None:
    from measure import merge_args, phase_table, run, spread

    me = str(Path(__file__).resolve())
    summary = []
    for n in sizes:
        with tempfile.TemporaryDirectory(prefix="bk-bench-") as tmp:
            folder = Path(tmp)
            print(f"N={n}: building forms…", flush=True)
            inbox, master = build(folder, n, prose)
            naive_master = folder / "naive" / "master.xlsx"
            naive_master.parent.mkdir()
            shutil.copy(master, naive_master)
            floors, keeping, ours = [], [], []
            for k in range(repeat):
                floors.append(run([me, "--floor", str(inbox)]))
                kept = folder / f"kept{k}"
                kept.mkdir()
                keeping.append(run([me, "--floor", str(inbox), str(kept)]))
                shutil.rmtree(kept)
                target = folder / f"run{k}" / "master.xlsx"
                target.parent.mkdir()
                shutil.copy(master, target)
                ours.append(run(merge_args(target, inbox), phases=True))
                print(f"  run {k + 1}: floor {floors[-1].wall:6.2f} s   floor+keeping {keeping[-1].wall:6.2f} s   "
                      f"brandkit {ours[-1].wall:6.2f} s   ratio {ours[-1].wall / floors[-1].wall:.2f}×", flush=True)
            naive_run = run([me, "--naive", str(inbox), str(naive_master)])
            ratios = [b.wall / f.wall for b, f in zip(ours, floors, strict=True)]
            mid = sorted(ours, key=lambda m: m.wall)[len(ours) // 2]
            size_mb = (folder / "run0" / "master.xlsx").stat().st_size / 2**20
            print(f"  floor     {spread([f.wall for f in floors])} s (min / median / max)   "
                  f"peak RSS (summed) {max(f.peak_mb for f in floors):.0f} MB")
            print(f"  brandkit  {spread([b.wall for b in ours])} s   peak RSS (summed) "
                  f"{max(b.peak_mb for b in ours):.0f} MB   master after the merge {size_mb:.1f} MB")
            print(f"  floor+keeping {spread([f.wall for f in keeping])} s: the floor plus each file's sha256 and each "
                  f"logo's original written and fsynced   brandkit/(floor+keeping) "
                  f"{spread([b.wall / f.wall for b, f in zip(ours, keeping, strict=True)])}×")
            print(f"  naive     {naive_run.wall:.2f} s (one run)   peak RSS (summed) {naive_run.peak_mb:.0f} MB")
            print(f"  brandkit/floor {spread(ratios)}×   naive/brandkit (median) "
                  f"{naive_run.wall / statistics.median(b.wall for b in ours):.2f}×   naive/(floor+keeping) "
                  f"{naive_run.wall / statistics.median(f.wall for f in keeping):.2f}× (the most a merge that keeps "
                  "can gain on the naive way, which keeps nothing)")
            cpu_ratios = [b.cpu / f.cpu for b, f in zip(ours, floors, strict=True)]
            print(f"  CPU seconds, summed over the processes: floor {spread([f.cpu for f in floors])}   brandkit "
                  f"{spread([b.cpu for b in ours])}   brandkit/floor {spread(cpu_ratios)}×")
            theirs, mine = [f.cpu - f.cpu_own for f in keeping], [b.cpu - b.cpu_own for b in ours]
            print(f"  of which in the processes under the command (its workers): floor+keeping {spread(theirs)}   "
                  f"brandkit {spread(mine)}   brandkit/(floor+keeping) "
                  f"{spread([b / f for b, f in zip(mine, theirs, strict=True)])}×; in brandkit's own process "
                  f"{spread([b.cpu_own for b in ours])}")
            print(f"  where the median brandkit run's {mid.wall:.2f} s went:")
            for name, took in phase_table(mid):
                print(f"    {name:<46} {took:6.3f} s")
            summary.append((n, statistics.median(f.wall for f in floors), statistics.median(f.wall for f in keeping),
                            naive_run.wall,
                            statistics.median(b.wall for b in ours), statistics.median(ratios),
                            statistics.median(cpu_ratios),
                            statistics.median(b.wall / f.wall for b, f in zip(ours, keeping, strict=True)),
                            max(b.peak_mb for b in ours), size_mb))
    print("\n| N | floor | floor + keeping | naive | brandkit | naive/brandkit | naive/(floor+keeping) "
          "| brandkit/floor (median of pairs) | CPU brandkit/floor | brandkit/(floor+keeping) | peak RSS | master |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for n, fl, kp, nv, bk, ratio, cpu_ratio, keep_ratio, peak, size in summary:
        print(f"| {n} | {fl:.2f} s | {kp:.2f} s | {nv:.2f} s | {bk:.2f} s | {nv / bk:.2f}× | {nv / kp:.2f}× | "
              f"{ratio:.2f}× | {cpu_ratio:.2f}× | {keep_ratio:.2f}× | {peak:.0f} MB | {size:.1f} MB |")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--floor"]:
        floor(Path(sys.argv[2]), Path(sys.argv[3]) if sys.argv[3:] else None, write="--hash-only" not in sys.argv)
    elif sys.argv[1:2] == ["--naive"]:
        naive(Path(sys.argv[2]), Path(sys.argv[3]))
    else:
        from measure import options

        given, args = options(sys.argv[1:], repeat=str(REPEAT), prose="templated")
        main([int(a) for a in args] or [50, 300, 1000], int(given["repeat"]), given["prose"])
