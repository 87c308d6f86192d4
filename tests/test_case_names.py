"""Branch names that differ only in letter case ("ICU党支部", "icu党支部") keep their logo originals in
files of their own where file names ignore case (Windows, macOS), and names without such a twin keep the
file names existing masters' `<台账>_标识/` folders already hold."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from toolkit.commands.merge import original_path
from toolkit.files.filenames import own_name

# Names that kept their plain file name before and must keep it: no letters, or upper-case letters only
UNCHANGED = ["内科党支部", "ICU党支部", "NICU党支部", "A党支部", "第1党支部", "内科第一党支部（本部）"]


@pytest.mark.parametrize("names", [
    ("ICU党支部", "icu党支部"),
    ("ICU党支部", "icu党支部", "Icu党支部", "iCU党支部"),
    ("CCU护理党支部", "ccu护理党支部"),
    ("SS党支部", "ẞ党支部"),  # capital sharp s: casefold() is "ss"
    ("ICU党支部", "icu党支部", "内科/外科党支部", "内科:外科党支部", "内科党支部"),
])
def test_names_differing_in_case_get_files_of_their_own(names: tuple[str, ...]) -> None:
    files = [own_name(n, suffix=".png") for n in names]
    assert len({f.casefold() for f in files}) == len(names), files
    assert all(own_name(n, suffix=".png") == f"{n}.png" for n in names if n in UNCHANGED)


def test_originals_beside_the_master_differ_ignoring_case(tmp_path: Path) -> None:
    master = tmp_path / "台账.xlsx"
    upper, lower = (original_path(master, b, ".png") for b in ("ICU党支部", "icu党支部"))
    assert upper.parent == lower.parent == tmp_path / "台账_标识"
    assert str(upper).casefold() != str(lower).casefold()
    assert [original_path(master, b, ".png").name for b in UNCHANGED] == [f"{b}.png" for b in UNCHANGED]


@given(st.text("ICUicuNnẞßSs内科党支部/:. ", min_size=1, max_size=12))
def test_case_variants_of_any_name_never_share_a_file(name: str) -> None:
    names = {name, name.upper(), name.lower(), name.title(), name.swapcase()}
    files = {own_name(n, suffix=".png").casefold() for n in names}
    assert len(files) == len(names)


def test_an_original_kept_under_its_earlier_plain_name_is_still_found(tmp_path: Path) -> None:
    """A master merged before names were told apart by case kept iCare党支部's logo as iCare党支部.png:
    the booklet still finds it, and never takes ICARE党支部's file for it."""
    from toolkit.commands.merge import kept_original, logo_dir

    master = tmp_path / "台账.xlsx"
    logo_dir(master).mkdir()
    (logo_dir(master) / "iCare党支部.png").write_bytes(b"\x89PNG")
    (logo_dir(master) / "ICU党支部.jpg").write_bytes(b"\xff\xd8")
    assert kept_original(master, "iCare党支部") == logo_dir(master) / "iCare党支部.png"
    assert kept_original(master, "icu党支部") is None  # ICU党支部's, whatever the disk's case rule
    assert kept_original(master, "ICU党支部") == logo_dir(master) / "ICU党支部.jpg"
