"""The macro-enabled master template and the committed workbook_templates/: every button names a Sub of
the embedded VBA, every Sub runs a function toolkit.xl has, the embedded modules are macros/ and the
installed xlwings module, the package is macro-enabled, LibreOffice opens each template, and the
committed files are what `make templates` builds now."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pytest

from tests.libreoffice import roundtrip_values
from toolkit.core.profile import PROFILE_SHEET, builtin_profiles, load_profile
from toolkit.core.roster import ROSTER_SHEET
from toolkit.excel.master_template import (
    BUTTONS,
    CONF_SHEET,
    CONSOLE_SHEET,
    MACRO_CONTENT_TYPE,
    RESULT,
    committed_profile,
    module_sources,
    template_files,
    write_master_template,
)

ROOT = Path(__file__).resolve().parents[1]
TEMPLATES = ROOT / "workbook_templates"
PROFILES = builtin_profiles()
RUNPYTHON = re.compile(r'RunPython "import toolkit\.xl as x; x\.(\w+)\(\)"')


def _body(source: str) -> str:
    """A module's code without its Attribute header, with Windows or Unix line ends alike."""
    lines = source.replace("\r\n", "\n").split("\n")
    return "\n".join(line for line in lines if not line.startswith("Attribute VB_")).strip()


def _subs(source: str) -> dict[str, str]:
    """Sub name -> its body."""
    return dict(re.findall(r"^Sub (\w+)\(\)\n(.*?)^End Sub", source.replace("\r\n", "\n"), re.M | re.S))


def _modules(path: Path) -> dict[str, str]:
    from pyopenvba import ExcelFile

    with ExcelFile(path) as book:
        assert book.validate() == []
        return book.vba_modules()


def _button_macros(path: Path) -> list[tuple[str, str]]:
    """(caption, macro) of every form button, from the sheet's VML drawing."""
    with zipfile.ZipFile(path) as zf:
        vml = "".join(zf.read(n).decode() for n in zf.namelist() if n.endswith(".vml"))
    shapes = re.findall(r"<v:shape .*?</v:shape>", vml, re.S)
    return [(re.sub(r"<[^>]+>", "", re.search(r"<v:textbox.*?</v:textbox>", s, re.S).group(0)).strip(),
             re.search(r"<x:FmlaMacro>\[0\]!(\w+)</x:FmlaMacro>", s).group(1)) for s in shapes]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("xlsm")
    return {name: write_master_template(load_profile(name), folder / name / "台账.xlsm") for name in PROFILES}


@pytest.mark.parametrize("name", PROFILES)
def test_every_button_runs_a_sub_that_runs_a_function_of_toolkit_xl(built: dict[str, Path], name: str) -> None:
    import toolkit.xl

    modules = _modules(built[name])
    subs = _subs(modules["BrandKit"])
    buttons = _button_macros(built[name])
    assert [caption for caption, _ in buttons] == [b.caption for b in BUTTONS]
    for caption, macro in buttons:
        assert macro in subs, f"button {caption} calls {macro}, which is not a Sub in the VBA project"
    assert len(subs) == len(BUTTONS)
    for sub, body in subs.items():
        targets = RUNPYTHON.findall(body)
        assert len(targets) == 1, f"{sub} must call exactly one toolkit.xl function"
        assert callable(getattr(toolkit.xl, targets[0], None)), f"{sub} runs x.{targets[0]}(), missing in toolkit.xl"
    assert {b.sub: b.entry for b in BUTTONS} == {s: RUNPYTHON.findall(b)[0] for s, b in subs.items()}


@pytest.mark.parametrize("name", PROFILES)
def test_embedded_modules_are_macros_and_the_installed_xlwings_module(built: dict[str, Path], name: str) -> None:
    import xlwings

    modules = _modules(built[name])
    for path in (ROOT / "macros").glob("*.bas"):
        assert _body(modules[path.stem]) == _body(path.read_text(encoding="ascii"))
    package = Path(xlwings.__file__).parent
    assert _body(modules["xlwings"]) == _body((package / "xlwings.bas").read_text(encoding="utf-8"))
    assert f"'Version: {xlwings.__version__}" in modules["xlwings"]  # macOS runs the matching applescript
    assert "Dictionary" in modules  # xlwings.bas needs it on macOS
    assert set(module_sources()) <= set(modules)


def test_macros_are_ascii_only() -> None:
    """VBA projects use code page 1252: a Chinese character in a .bas file would become '????'."""
    files = list((ROOT / "macros").glob("*.bas"))
    assert files
    for path in files:
        path.read_bytes().decode("ascii")


@pytest.mark.parametrize("name", PROFILES)
def test_package_is_macro_enabled_with_console_ledger_log_rules_and_hidden_conf(built: dict[str, Path],
                                                                               name: str) -> None:
    profile = load_profile(name)
    with zipfile.ZipFile(built[name]) as zf:
        types = zf.read("[Content_Types].xml").decode()
        workbook = zf.read("xl/workbook.xml").decode()
        assert "xl/vbaProject.bin" in zf.namelist()
    assert re.search(rf'PartName="/xl/workbook.xml" ContentType="{re.escape(MACRO_CONTENT_TYPE)}"', types)
    assert 'Extension="bin" ContentType="application/vnd.ms-office.vbaProject"' in types
    sheets = {re.search(r'name="([^"]+)"', tag).group(1): 'state="hidden"' in tag
              for tag in re.findall(r"<sheet [^>]*/>", workbook)}
    tables = [t.sheet_name for t in profile.tables]  # one sheet per table (申报工程, 活动台帐)
    assert list(sheets) == [CONSOLE_SHEET, ROSTER_SHEET, profile.ledger.sheet, *tables, "填报规则", "节假日", profile.ledger.log_sheet,
                            PROFILE_SHEET, CONF_SHEET]
    assert [name for name, hidden in sheets.items() if hidden] == [PROFILE_SHEET, CONF_SHEET]
    assert 'codeName="ThisWorkbook"' in workbook


def test_write_master_template_refuses_a_name_that_would_drop_the_macros(tmp_path: Path) -> None:
    from toolkit.core.errors import UsageProblem

    with pytest.raises(UsageProblem, match=r"\.xlsm"):
        write_master_template(load_profile("hospital-brand"), tmp_path / "台账.xlsx")
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("name", PROFILES)
def test_libreoffice_opens_each_committed_template(name: str) -> None:
    from toolkit.core.adoption import ledger_header

    profile = load_profile(name)
    master = roundtrip_values(TEMPLATES / name / "台账.xlsm")
    assert master[profile.ledger.sheet][0] == ledger_header(profile)
    console = [row[0] for row in master[CONSOLE_SHEET] if row]
    assert RESULT in console
    assert master[CONF_SHEET][0][:2] == ["USE UDF SERVER", False]
    form = roundtrip_values(TEMPLATES / name / "申报表.xlsx")
    assert profile.form_title in [v for row in form["申报表"] for v in row]


@pytest.mark.parametrize("name", PROFILES)
def test_committed_templates_are_up_to_date(name: str) -> None:
    for filename, data in template_files(committed_profile(name)).items():
        committed = TEMPLATES / name / filename
        assert committed.exists(), f"{committed} is missing: run `make templates`"
        assert committed.read_bytes() == data, f"{committed} is out of date: run `make templates` and commit it"


def test_rebuilding_gives_identical_bytes() -> None:
    profile = load_profile("hospital-brand")
    assert template_files(profile) == template_files(profile)
