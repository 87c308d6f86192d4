"""A form's package read once: members inflated from the file's bytes, calamine handed the package
without its pictures (the same values, or the whole file whenever the package is unusual), and the
read workers reusing the memory each file frees."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.notice_forms import hospital_brand, write_docx, write_xlsx
from toolkit.core.model import Provenance
from toolkit.core.profile import load_profile
from toolkit.readers.grid import read_grids
from toolkit.readers.submission import read_bytes
from toolkit.readers.zipparts import open_zip, read_member, without_media


def noisy_jpeg(side: int = 300) -> bytes:
    """A photo-like JPEG of ~100 KB or more (noise does not compress): a picture worth leaving out."""
    from PIL import Image

    buf = io.BytesIO()
    Image.frombytes("RGB", (side, side), os.urandom(side * side * 3)).save(buf, "JPEG", quality=95)
    return buf.getvalue()


@pytest.fixture(scope="module")
def form(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    sheet = hospital_brand("第一党支部", 1)
    sheet.logo = noisy_jpeg()
    return write_xlsx(sheet, tmp_path_factory.mktemp("zip") / "form.xlsx").read_bytes()


def grids_of(data: bytes, package: zipfile.ZipFile | None = None) -> dict:
    return {name: (g.rows, g.merged, g.hidden) for name, g in read_grids(data, "xlsx", package).items()}


def repack(data: bytes, *, prefix: bytes = b"", stream: bool = False) -> bytes:
    """The same members written again: after `prefix` bytes, or (stream) with data descriptors, as a
    writer that cannot seek back (zipfile on a pipe, some web exports) writes them."""

    class Unseekable(io.RawIOBase):
        def __init__(self) -> None:
            self.buf = bytearray(prefix)

        def writable(self) -> bool:
            return True

        def write(self, b) -> int:  # type: ignore[no-untyped-def, override]
            self.buf += b
            return len(b)

    out = Unseekable() if stream else io.BytesIO(prefix)
    if not stream:
        out.seek(len(prefix))
    with zipfile.ZipFile(io.BytesIO(data)) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            zout.writestr(info.filename, zin.read(info))
    return bytes(out.buf) if isinstance(out, Unseekable) else out.getvalue()


def test_calamine_reads_the_package_without_its_pictures_and_finds_the_same_values(form: bytes) -> None:
    zf = open_zip(form)
    assert zf is not None
    small = without_media(form, zf)
    assert len(small) < len(form) / 2  # the logo was most of the file
    with zipfile.ZipFile(io.BytesIO(small)) as kept:
        assert kept.testzip() is None
        names = kept.namelist()
        assert not [n for n in names if n.startswith("xl/media/")]
        assert names == [n for n in zf.namelist() if not n.startswith("xl/media/")]
        assert all(kept.read(n) == zf.read(n) for n in names)
    assert grids_of(form, zf) == grids_of(form)
    # and the submission read from it: the values and the logo (from the whole package) as before
    profile = load_profile("hospital-brand")
    sub = read_bytes(form, Provenance("form.xlsx", ""), profile)[0]
    assert sub.fields["党支部名称"].value == "第一党支部"
    assert sub.logo is not None and sub.logo.data == zf.read(next(n for n in zf.namelist() if "/media/" in n))


@pytest.mark.parametrize("how", ["prefixed", "data descriptors"])
def test_unusual_packages_are_read_whole_or_repacked_the_same(form: bytes, how: str) -> None:
    data = repack(form, prefix=b"MZ" + b"\0" * 62) if how == "prefixed" else repack(form, stream=True)
    zf = open_zip(data)
    assert zf is not None
    small = without_media(data, zf)
    if how == "prefixed":
        assert small is data  # member offsets are not the file's: handed on whole
    else:
        assert all(i.flag_bits & 0x08 for i in zf.infolist())
        assert len(small) < len(data) / 2  # each member's descriptor travels with it
        with zipfile.ZipFile(io.BytesIO(small)) as kept:
            assert kept.testzip() is None
    assert grids_of(data, zf) == grids_of(form)


def test_a_package_with_small_pictures_or_a_damaged_directory_is_handed_on_whole(form: bytes,
                                                                                tmp_path: Path) -> None:
    sheet = hospital_brand("第二党支部", 2)
    sheet.logo = noisy_jpeg(40)  # a few KB: nothing worth leaving out
    data = write_xlsx(sheet, tmp_path / "small.xlsx").read_bytes()
    zf = open_zip(data)
    assert zf is not None and without_media(data, zf) is data
    zf = open_zip(form)
    assert zf is not None
    at = zf.start_dir
    broken = form[:at] + b"XX" + form[at + 2:]  # the first directory record's signature, after zipfile read it
    assert without_media(broken, zf) is broken


def test_members_inflate_the_same_from_bytes_and_from_a_file(form: bytes, tmp_path: Path) -> None:
    path = tmp_path / "form.xlsx"
    path.write_bytes(form)
    from_bytes = open_zip(form)
    assert from_bytes is not None
    with zipfile.ZipFile(path) as from_file:
        for name in from_file.namelist():
            assert read_member(from_bytes, name, 1 << 30) == read_member(from_file, name, 1 << 30) \
                == from_file.read(name)
    media = next(i for i in from_bytes.infolist() if "/media/" in i.filename)
    media.header_offset = -30  # a crafted offset reads nothing, not the bytes before the end
    assert read_member(from_bytes, media.filename, 1 << 30) is None


def test_a_word_form_read_with_its_package_opened_once(tmp_path: Path) -> None:
    sheet = hospital_brand("第三党支部", 3)
    sheet.logo = noisy_jpeg()
    data = write_docx(sheet, tmp_path / "form.docx").read_bytes()
    sub = read_bytes(data, Provenance("form.docx", ""), load_profile("hospital-brand"))[0]
    assert sub.provenance.kind == "docx" and sub.fields["党支部名称"].value == "第三党支部"
    assert sub.logo is not None and sub.logo.data == sheet.logo


FAULTS = """
import resource, sys
from toolkit.files.portable import reuse_freed_memory
if sys.argv[1] == "reuse":
    reuse_freed_memory()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for i in range(60):  # one file after another, each buffer a little larger than the last
    buf = bytearray(2_000_000 + 4096 * i)
    del buf
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's allocator (mallopt) only")
def test_workers_reuse_the_memory_each_file_frees() -> None:
    def faults(mode: str) -> int:
        out = subprocess.run([sys.executable, "-c", FAULTS, mode], capture_output=True, text=True, check=True,
                             env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])})
        return int(out.stdout)

    fresh, reused = faults("default"), faults("reuse")
    assert fresh > 60 * 400  # glibc maps (and faults in) each buffer anew
    assert reused < fresh / 10
