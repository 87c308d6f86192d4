"""One campaign folder as the page sees it: the master, the inbox, the reports, the summary.

The layout is the one `brandkit demo` makes and the buttons' 设置 sheet suggests: the master workbook at
the top, 收件箱/ (intake's output, merge's input), 校验结果/ (one report per file), 汇总.xlsx and 图表/.
Which master the page works on (a folder may hold several workbooks) and the IMAP settings (never the
password) are remembered in `.brandkit-web.json` in the folder.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from toolkit.core.errors import UsageProblem
from toolkit.files.atomic import write_atomic

SETTINGS = ".brandkit-web.json"
MASTER_SUFFIXES = (".xlsx", ".xlsm")


@dataclass(frozen=True)
class Campaign:
    folder: Path

    @property
    def inbox(self) -> Path:
        return self.folder / "收件箱"

    @property
    def mail(self) -> Path:
        """Where uploaded mail exports are kept (intake's source, so a second upload is taken once)."""
        return self.folder / "邮件"

    @property
    def uploads(self) -> Path:
        """Forms dropped on the page straight (not in a mail): a sub-folder of the inbox."""
        return self.inbox / "网页上传"

    @property
    def reports(self) -> Path:
        return self.folder / "校验结果"

    @property
    def summary(self) -> Path:
        return self.folder / "汇总.xlsx"

    @property
    def charts(self) -> Path:
        return self.folder / "图表"

    def relative(self, path: Path) -> str:
        """`path` as the page names it: relative to the folder, with forward slashes."""
        return Path(os.path.relpath(path, self.folder)).as_posix()

    # -- settings ------------------------------------------------------------------------------------

    def settings(self) -> dict[str, Any]:
        try:
            doc = json.loads((self.folder / SETTINGS).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return doc if isinstance(doc, dict) else {}

    def remember(self, **values: Any) -> None:
        doc = {**self.settings(), **values}
        write_atomic(self.folder / SETTINGS, json.dumps(doc, ensure_ascii=False, indent=2).encode("utf-8"))

    # -- the master ----------------------------------------------------------------------------------

    def candidates(self) -> list[Path]:
        """Workbooks at the top of the folder that may be the master (not the summary, not owner files)."""
        try:
            files = sorted(self.folder.iterdir())
        except OSError:
            return []
        return [p for p in files if p.is_file() and p.suffix.lower() in MASTER_SUFFIXES
                and not p.name.startswith((".", "~$")) and p.name != self.summary.name]

    def master(self) -> Path | None:
        """The master chosen on the page, else the only workbook in the folder; None when undecided."""
        chosen = self.settings().get("master")
        if isinstance(chosen, str) and chosen:
            path = self.folder / Path(chosen).name
            if path.is_file():
                return path
        found = self.candidates()
        return found[0] if len(found) == 1 else None

    def require_master(self) -> Path:
        master = self.master()
        if master is None:
            raise UsageProblem("还没有选定台账：请先在首页新建或选择台账")
        return master


def fingerprint(master: Path, inbox: Path) -> tuple[str, str]:
    """(the master's sha256, the inbox's listing digest): what a merge preview saw. The inbox digest
    covers every file's name, size and modification time, so a form added, removed or saved again
    changes it."""
    from toolkit.files.masterfile import digest, master_bytes

    h = hashlib.sha256()
    for root, dirs, files in os.walk(inbox):
        dirs.sort()
        for name in sorted(files):
            path = Path(root) / name
            try:
                st = path.stat()
            except OSError:
                continue
            h.update(f"{path.relative_to(inbox).as_posix()}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return digest(master_bytes(master)), h.hexdigest()
