"""Readers on forms typed by hand, other producers' files, and every corpus file."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.paths import corpus_files
from toolkit.core.grid import Grid
from toolkit.core.model import Provenance
from toolkit.core.profile import load_profile
from toolkit.readers.errors import Unreadable
from toolkit.readers.sniff import sniff
from toolkit.readers.submission import read_bytes, submissions_from_grids

ROOT = Path(__file__).resolve().parents[1]

PROFILE = load_profile("hospital-brand")


def fields_of(rows: list[list], merged: list | None = None) -> dict:
    (sub,) = submissions_from_grids({"表": Grid("表", rows, merged or [])}, [], Provenance("x.xlsx", ""), PROFILE)
    return {k: v.value for k, v in sub.fields.items()} | {"_cells": {k: v.cell for k, v in sub.fields.items()}}


def test_hand_typed_form_with_broken_labels():
    rows = [
        ["2024年“一支部一品牌”申报表", None, None, None],
        [None, None, None, None],  # an inserted row
        ["党 支 部\n名 称", "中共内科第一党支部", "党员\u3000人数（人）", "23人"],
        ["品牌名称（10字以内）：杏林先锋", None, None, None],
        ["品牌内涵", None, None, None],
        ["以患者为中心，以党建促业务。", None, None, None],
        ["填表人:", "张三", "联系电话：", "138-1234-5678"],
    ]
    merged = [(0, 0, 0, 3), (3, 0, 3, 3), (4, 0, 4, 3), (5, 0, 5, 3)]
    got = fields_of(rows, merged)
    assert got["党支部名称"] == "中共内科第一党支部"
    assert got["党员总数"] == 23
    assert got["品牌名称"] == "杏林先锋" and got["_cells"]["品牌名称"] == "表!A4"
    assert got["品牌内涵"] == "以患者为中心，以党建促业务。" and got["_cells"]["品牌内涵"] == "表!A6"
    assert got["填表人"] == "张三"
    assert got["联系方式"] == "138-1234-5678"


def test_vertical_form_values_below_labels():
    rows = [
        ["党支部名称", "党员总数", "品牌名称", "填表人", "联系方式"],
        ["护理部党支部", 31.0, "仁心护航", "李四", 13912345678.0],
    ]
    got = fields_of(rows)
    assert got["党支部名称"] == "护理部党支部" and got["党员总数"] == 31
    assert got["品牌名称"] == "仁心护航" and got["联系方式"] == "13912345678"
    assert got["_cells"]["品牌名称"] == "表!C2"


def test_blank_value_points_at_its_cell_not_at_a_note():
    rows = [["党支部名称", "外科党支部", "党员总数", 12],
            ["品牌名称", None, "填表人", None],
            ["注：请勿修改栏目", None, None, None]]
    got = fields_of(rows)
    assert got["品牌名称"] is None and got["_cells"]["品牌名称"] == "表!B2"
    assert got["填表人"] is None and got["_cells"]["填表人"] == "表!D2"


def test_sheets_that_are_not_forms_are_skipped_and_said():
    form = Grid("一支部", [["党支部名称", "A党支部"], ["党员总数", 3], ["品牌名称", "甲"]])
    notes = Grid("填表说明", [["请按要求填写"]])
    blank = Grid("模板", [["党支部名称", None], ["党员总数", None], ["品牌名称", None]])
    subs = submissions_from_grids({g.name: g for g in (notes, form, blank)}, [], Provenance("x", ""), PROFILE)
    assert [s.provenance.sheet for s in subs] == ["一支部"]
    assert any("填表说明" in n for n in subs[0].notes) and any("空白" in n for n in subs[0].notes)


def _prov() -> Provenance:
    return Provenance("upload.xls", "")


def test_html_saved_as_xls_is_read():
    html = ("<html><body><table><tr><td>党支部名称</td><td colspan=3>机关第二党支部</td></tr>"
            "<tr><td>党员总数</td><td>15</td><td>品牌名称</td><td>红心向党</td></tr></table></body></html>")
    data = html.encode("gb18030")
    assert sniff(data) == "html"
    (sub,) = read_bytes(data, _prov(), PROFILE)
    assert sub.value("党支部名称") == "机关第二党支部" and sub.value("党员总数") == 15


def test_csv_in_gb18030_and_spreadsheetml_2003():
    csv = "党支部名称,药剂科党支部\n党员总数,9\n品牌名称,药香党建\n".encode("gb18030")
    assert sniff(csv) == "csv"
    (sub,) = read_bytes(csv, _prov(), PROFILE)
    assert sub.value("品牌名称") == "药香党建" and sub.value("党员总数") == 9
    xml = ('<?xml version="1.0"?><Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet" '
           'xmlns:ss="urn:schemas-microsoft-com:office:spreadsheet"><Worksheet ss:Name="表1"><Table>'
           '<Row><Cell><Data ss:Type="String">党支部名称</Data></Cell><Cell><Data ss:Type="String">检验科党支部'
           '</Data></Cell></Row><Row><Cell><Data ss:Type="String">党员总数</Data></Cell><Cell>'
           '<Data ss:Type="Number">12</Data></Cell></Row><Row><Cell><Data ss:Type="String">品牌名称</Data>'
           '</Cell><Cell><Data ss:Type="String">精检先锋</Data></Cell></Row></Table></Worksheet></Workbook>')
    assert sniff(xml.encode()) == "xml2003"
    (sub,) = read_bytes(xml.encode(), _prov(), PROFILE)
    assert sub.value("党支部名称") == "检验科党支部" and sub.value("党员总数") == 12


@pytest.mark.parametrize("data,reason", [
    (b"", "empty"), (b"%PDF-1.4 ...", "not_spreadsheet"), (b"PK\x03\x04garbage", "corrupt"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600, "corrupt"),
])
def test_sniff_refuses_with_a_reason(data, reason):
    with pytest.raises(Unreadable) as info:
        sniff(data)
    assert info.value.reason == reason


@pytest.mark.slow  # the whole corpus through the CLI in a subprocess
def test_every_corpus_file_is_read_without_traceback():
    files = corpus_files(".xlsx", ".xlsm", ".xls", ".et", ".ods")
    assert len(files) >= 30
    proc = subprocess.run([sys.executable, "-m", "toolkit", "--json", "validate", *map(str, files),
                           "--profile", "hospital-brand"], capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr[-2000:]
    docs = json.loads(proc.stdout)["files"]
    by_name: dict[str, list] = {}
    for doc in docs:
        by_name.setdefault(Path(doc["path"]).name, []).append(doc)
    for path in files:
        entries = by_name[path.name]
        if path.stem == "pass_protected":
            assert entries[0]["status"] == "unreadable"
            assert "加密" in entries[0]["findings"][0]["message"] and "去掉密码" in entries[0]["findings"][0]["message"]
        else:  # readable: not a hospital-brand form, but never called unreadable
            assert all(e["status"] != "unreadable" for e in entries), (path.name, entries[0]["findings"])


def test_a_master_left_in_the_inbox_is_named_as_a_master(new_master):
    from toolkit.readers.submission import read_path

    master = new_master()
    (sub,) = read_path(str(master), load_profile("hospital-brand"))
    (finding,) = sub.findings
    assert finding.rule == "template_mismatch" and "这是台账" in finding.message and "操作记录" in finding.message
