"""Regenerate workbook_templates/<profile>/申报表.xlsx and 台账.xlsm for every built-in campaign
(`make templates`). The output is byte-stable: rebuilding unchanged sources changes no file, and
tests/test_master_template.py fails when the committed files are out of date."""

from __future__ import annotations

import sys
from pathlib import Path

from toolkit.core.profile import builtin_profiles
from toolkit.excel.master_template import committed_profile, template_files

OUT = Path(__file__).resolve().parents[1] / "workbook_templates"


def main() -> int:
    for name in builtin_profiles():
        folder = OUT / name
        folder.mkdir(parents=True, exist_ok=True)
        for filename, data in template_files(committed_profile(name)).items():
            path = folder / filename
            if not path.exists() or path.read_bytes() != data:
                path.write_bytes(data)
                print(f"updated {path.relative_to(OUT.parent)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
