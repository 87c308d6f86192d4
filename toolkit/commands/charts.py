"""The summary's charts as PNG (matplotlib, for slides): per 党总支 and per stage, in a Chinese font.

Every label reads: long or many 党总支 names are wrapped, and turned when they still do not fit; a
character no installed font has (an emoji in a name) is left out rather than drawn as a box. matplotlib's
warnings never reach the officer's terminal.
"""

from __future__ import annotations

import textwrap
import warnings
from pathlib import Path

from toolkit.commands.status import Progress, group_table, stage_table
from toolkit.core.datetext import official_date
from toolkit.core.errors import UsageProblem
from toolkit.core.progress import WITHDRAWN
from toolkit.core.vocabulary import KIND_ZH, UNHANDLED, ReportState

# CJK fonts matplotlib may find, best first; any other installed font covering the text is the fallback.
CJK_FONTS = ("Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Micro Hei", "WenQuanYi Zen Hei",
             "Microsoft YaHei", "SimHei", "PingFang SC", "Noto Sans SC", "Noto Sans CJK JP")  # a .ttc's first face
COLOURS = {ReportState.ON_TIME: "#70AD47", ReportState.LATE: "#FFC000", ReportState.RETURNED: "#C00000",
           ReportState.MISSING: "#BFBFBF", **dict(zip(KIND_ZH.values(), ("#70AD47", "#5B9BD5", "#C00000", "#FFC000",
                                                                         "#7F7F7F"), strict=True)), "其他": "#A5A5A5",
           WITHDRAWN: "#595959", UNHANDLED: "#D9D9D9"}
SIZE_IN, DPI = (8, 4.5), 150
LABEL_ROOM = 52  # characters of x-axis labels that fit side by side at 9 pt on the chart's width


def cjk_font() -> str:
    """Path of an installed font with Chinese glyphs, so charts show text instead of tofu boxes.

    matplotlib lists the fonts it found when it first ran and never looks again: a Chinese font installed
    since (the usual fix when charts show boxes) is looked for on disk when its list has none."""
    from matplotlib import font_manager

    listed = [(f.name, f.fname) for f in font_manager.fontManager.ttflist]
    found = _chinese(listed)
    if found is None:
        known = {path for _, path in listed}
        found = _chinese([(_family(path), path) for path in font_manager.findSystemFonts() if path not in known])
    if found is None:
        raise UsageProblem("没有找到中文字体，图表中的汉字会显示为方框。请安装中文字体（如 fonts-noto-cjk：sudo apt-get "
                           "install fonts-noto-cjk，或运行 make），再生成 PNG 图表")
    return found


def _chinese(fonts: list[tuple[str, str]]) -> str | None:
    """The first of `fonts` ((family, file)) in CJK_FONTS' order, else the first that has the glyphs.
    Last Resort (bundled with matplotlib) has a glyph for every character: a box."""
    for family in CJK_FONTS:
        for name, path in fonts:
            if name == family:
                return path
    return next((path for name, path in fonts if not name.startswith("Last Resort") and _covers(path, "党支部总进度")),
                None)


def _family(font_file: str) -> str:
    from matplotlib.ft2font import FT2Font

    try:
        return str(FT2Font(font_file).family_name)
    except (OSError, RuntimeError):
        return ""


def _covers(font_file: str, text: str) -> bool:
    from matplotlib.ft2font import FT2Font

    try:
        face = FT2Font(font_file)
    except (OSError, RuntimeError):
        return False
    return all(face.get_char_index(ord(ch)) for ch in text if not ch.isspace())


def drawable(text: str, font_file: str) -> str:
    """`text` without the characters the font lacks (an emoji, a rare symbol): left out, not boxed."""
    from matplotlib.ft2font import FT2Font

    face = FT2Font(font_file)
    kept = "".join(ch for ch in text if ch.isspace() or face.get_char_index(ord(ch)))
    return kept.strip() or "—"


def tick_labels(labels: list[str], room: int = LABEL_ROOM) -> tuple[list[str], int]:
    """(the x-axis labels, wrapped to their share of the width, the rotation in degrees): a label wider
    than its share is broken into lines of at most 3 rows; when even then they would touch, turned 45°."""
    if not labels:
        return [], 0
    share = max(room // len(labels) - 1, 2)
    if all(len(label) <= share for label in labels):
        return labels, 0
    if max(len(label) for label in labels) <= 3 * share:
        return ["\n".join(textwrap.wrap(label, share)) for label in labels], 0
    return ["\n".join(textwrap.wrap(label, 10)[:3]) for label in labels], 45 if len(labels) <= 24 else 90


def write_png_charts(p: Progress, out_dir: Path) -> tuple[list[Path], str]:
    """The two charts of 总体进度 as PNG (for slides). Returns the files and the font file used."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib import font_manager
    from matplotlib.ticker import MaxNLocator

    font_file = cjk_font()
    font = font_manager.FontProperties(fname=font_file)
    out_dir.mkdir(parents=True, exist_ok=True)
    when = official_date(p.today)
    header, rows = group_table(p)
    groups = [drawable(str(r[0]), font_file) for r in rows[:-1]]
    s_header, s_rows = stage_table(p)
    charts: list[tuple[str, str, list[str], dict[str, list[int]]]] = [
        (f"各党总支报送情况（截至{when}）", "党总支进度.png", groups,
         {s.value: [r[header.index(s.value)] for r in rows[:-1]] for s in ReportState if s.value in header}),
        (f"各阶段办理情况（截至{when}）", "阶段进展.png", [drawable(str(r[0]), font_file) for r in s_rows],
         {name: [r[s_header.index(name)] for r in s_rows] for name in s_header[3:]}),
    ]
    paths = []
    for title, name, labels, series in charts:
        with warnings.catch_warnings():  # an empty chart, a tight layout that cannot fit: the PNG is still right
            warnings.simplefilter("ignore", UserWarning)
            fig, ax = plt.subplots(figsize=SIZE_IN, dpi=DPI)
            positions = list(range(len(labels)))
            bottom = [0] * len(labels)
            for label, values in series.items():
                bars = ax.bar(positions, values, bottom=bottom, label=label, color=COLOURS[label])
                ax.bar_label(bars, labels=[str(v) if v else "" for v in values], label_type="center",
                             fontproperties=font, fontsize=9)
                bottom = [a + b for a, b in zip(bottom, values, strict=True)]
            ax.set_title(title, fontproperties=font, fontsize=14)
            ax.set_ylabel("支部数", fontproperties=font)
            shown, angle = tick_labels(labels)
            ax.set_xticks(positions, shown, fontproperties=font, fontsize=9 if len(labels) <= 12 else 7,
                          rotation=angle, ha="right" if angle else "center", rotation_mode="anchor")
            locator = ax.yaxis.get_major_locator()
            if isinstance(locator, MaxNLocator):  # the default AutoLocator is one
                locator.set_params(integer=True)
            if series and labels:
                ax.legend(prop=font, loc="upper left", bbox_to_anchor=(1.01, 1.0))
            fig.tight_layout()
            path = out_dir / name
            fig.savefig(path)
            plt.close(fig)
        paths.append(path)
    return paths, font_file
