"""Loading checks for campaign profiles and the 填报规则 sheet: what an office's own file or sheet may get
wrong, each refused with a Chinese message that names the file (or the sheet's cell), the key, and what to
write instead.

- the file's encoding: UTF-8 with or without a BOM, else GB18030/GBK (Notepad's "ANSI" on Chinese
  Windows), or UTF-16 with a BOM (Notepad's "Unicode");
- TOML syntax errors, translated, with full-width punctuation (“” ＝ ，) pointed out;
- every key's type (a number in quotes is an error, as is a single text where a list is expected: it is
  never split into characters), and missing required keys;
- field limits (字数 and value bounds) that no form could meet, and regular expressions that do not compile;
- sheet names as Excel allows them, the ledger's and the log's different from each other and from the
  sheets brandkit keeps;
- the 填报规则 sheet's 必填 marks (是/否, √/×, Y/N, …).
"""

from __future__ import annotations

import codecs
import dataclasses
import math
import re
import tomllib
import unicodedata
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from toolkit.core.profile import FieldSpec, Profile


class ProfileError(ValueError):
    """A profile file or 填报规则 sheet is malformed; the message names the key."""


# -- the file's encoding --------------------------------------------------------------------------------

def decode_profile(data: bytes, where: str) -> str:
    """A profile file's text: UTF-8 (a BOM dropped), UTF-16 with a BOM, else GB18030 (a superset of GBK,
    what Notepad saves as "ANSI" on Chinese Windows)."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            pass
    else:
        for encoding in ("utf-8-sig", "gb18030"):
            try:
                return data.decode(encoding)
            except UnicodeDecodeError:
                continue
    raise ProfileError(f"{where}：无法识别文件的编码（既不是 UTF-8，也不是 GBK/GB18030）。请用记事本打开该文件，"
                       f"选“另存为”，编码选“UTF-8”后保存，再重新运行")


# -- TOML syntax ----------------------------------------------------------------------------------------

_TOML_REASONS = (
    ("Invalid value", "等号后面的值写法不对：文字要用半角双引号括起来（如 \"品牌名称\"），数字和 true/false 不加引号，"
                      "列表用半角方括号和逗号（如 [\"是\", \"否\"]）"),
    ("Expected '=' after a key", "键的后面应是半角等号 =（如 max_chars = 10）；键名中不能有空格"),
    ("Invalid statement", "这一行无法识别：每行应写成 键 = 值，或 [表名] / [[表名]]"),
    ("Unclosed array", "方括号 [ ] 没有配对，或列表中的逗号不是半角逗号 ,"),
    ("Unclosed inline table", "花括号 { } 没有配对"),
    ("Unterminated string", "引号没有配对：文字两边都要有半角双引号 \""),
    ("Unescaped '\\'", "双引号里的反斜杠 \\ 要写成两个 \\\\，或改用单引号括起来（如 pattern = '\\d+'）"),
    ("Cannot overwrite a value", "同一个键写了两次：请删去重复的一行"),
    ("Cannot declare", "同一个表写了两次：请删去重复的一处"),
    ("Expected newline or end of document", "一行只能写一个 键 = 值；文字要用半角双引号括起来，日期写成 \"08-10\""),
    ("Expected ']", "表名的方括号没有配对：应写成 [表名] 或 [[表名]]"),
    ("Illegal character", "文字中有不允许的字符（如换行）：多行文字请用三个双引号 \"\"\" 括起来"),
    ("Invalid initial character for a key part", "键名写法不对：键名只能用英文字母、数字、下划线和连字符"),
)
_QUOTED = re.compile(r'"(?:[^"\\\n]|\\.)*"|\'[^\'\n]*\'')
_LOCATION = re.compile(r"\(at line (\d+), column (\d+)\)")
_KEY_LINE = re.compile(r"\s*[A-Za-z0-9_.-]+\s*[=＝]")  # `key = …`, not the text inside a multi-line string


def full_width_advice(line: str) -> str | None:
    """What a line writes in full-width punctuation outside its (half-width) quoted strings, as advice
    ("请把全角引号“”改为半角引号\"\""); None when it has none."""
    bare = _QUOTED.sub('""', line).split("#", 1)[0]
    advice: list[str] = []
    if any(c in bare for c in "“”"):
        advice.append("请把全角引号“”改为半角引号\"\"")
    if any(c in bare for c in "‘’"):
        advice.append("请把全角引号‘’改为半角引号''")
    if "\u3000" in bare:
        advice.append("请把全角空格改为半角空格")
    seen: dict[str, str] = {}
    for c in bare:
        half = unicodedata.normalize("NFKC", c)
        if c != half and len(half) == 1 and half.isascii() and half.strip():
            seen.setdefault(c, half)
    advice += [f"请把全角的“{c}”改为半角的“{half}”" for c, half in seen.items()]
    if not advice:
        return None
    return "这一行用了中文（全角）标点：" + "，".join(advice) + "（输入前把输入法切换到英文标点）"


def toml_problem(exc: tomllib.TOMLDecodeError, text: str, where: str) -> ProfileError:
    """A TOML syntax error as a Chinese message: the file, the line and its text, what is wrong there."""
    detail = str(exc)
    reason = next((zh for en, zh in _TOML_REASONS if detail.startswith(en)), "TOML 格式有误")
    lines = text.splitlines()
    found = _LOCATION.search(detail)
    number = int(found.group(1)) if found else None
    if number is None or not 1 <= number <= len(lines):  # "(at end of document)": a key line in full width
        number = next((n for n, line in enumerate(lines, 1) if _KEY_LINE.match(line) and full_width_advice(line)),
                      None)
    if number is None:
        return ProfileError(f"{where}：{reason}。（TOML：{detail}）")
    line = lines[number - 1].strip()
    advice = full_width_advice(lines[number - 1]) or reason
    return ProfileError(f"{where} 第 {number} 行“{line[:60]}”：{advice}。（TOML：{detail}）")


# -- keys and their types -------------------------------------------------------------------------------

# A dataclass field's annotation -> the kind of TOML value it takes. Annotations not listed (nested specs,
# dates) are converted and checked by their callers.
_KINDS = {"str": "text", "str | None": "text", "Severity": "text", "CharCount": "text",
          "int": "integer", "int | None": "integer", "float": "number", "float | None": "number",
          "bool": "bool", "tuple[str, ...]": "texts", "tuple[tuple[str, ...], ...]": "rows"}


# What a missing required key is for, where a bare example would not say.
_HINTS = {"id": '如 id = "my-brand"（活动方案的编号：英文字母、数字和连字符，台账和申报表靠它认出方案）',
          "statuses": '如 statuses = ["已提交", "退回"]（该阶段可以盖的状态，用半角方括号括起来的列表）',
          "key": '如 key = "党支部名称"（认出是哪个支部的字段）', "group": '如 group = "党总支"（台账中按哪一列分组）'}


def _shown(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f"带引号的文字 \"{value[:30]}\""
    if isinstance(value, list):
        return "一个列表"
    if isinstance(value, dict):
        return "一个表"
    return f"数字 {value}" if isinstance(value, int | float) else f"{value}"


def _example(kind: str, key: str, value: Any = None) -> str:
    if kind == "integer":
        digits = value.strip() if isinstance(value, str) and value.strip().isdigit() else "10"
        return f"整数，不加引号，如 {key} = {digits}"
    if kind == "number":
        return f"数字，不加引号，如 {key} = 10"
    if kind == "bool":
        yes = isinstance(value, str) and value.strip() in YES
        return f" true 或 false（小写，不加引号），如 {key} = {'true' if yes or value is None else 'false'}"
    if kind == "texts":
        items = [p for p in re.split(r"[,，、;；\s]+", value) if p] if isinstance(value, str) else []
        shown = ", ".join(f'"{p}"' for p in items) if items else '"……", "……"'
        return f"用半角方括号括起来的列表，每项加半角双引号（只有一项也要加方括号），如 {key} = [{shown}]"
    if kind == "rows":
        return f'列表的列表，如 {key} = [["党支部名称"], ["品牌名称", "党员总数"]]'
    return f'用半角双引号括起来的文字，如 {key} = "……"'


def _fits(kind: str, value: Any) -> bool:
    if kind == "text":
        return isinstance(value, str)
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    if kind == "bool":
        return isinstance(value, bool)
    if kind == "texts":
        return isinstance(value, list | tuple) and all(isinstance(v, str) for v in value)
    if kind == "rows":
        return isinstance(value, list | tuple) and all(
            isinstance(row, list | tuple) and all(isinstance(v, str) for v in row) for row in value)
    return True


def named(data: Mapping[str, Any]) -> str:
    """"（“品牌名称”）" after a table's path, when it has a name, so the officer finds it in the file."""
    name = data.get("name")
    return f"（“{name}”）" if isinstance(name, str) and name else ""


def check_keys(data: Any, cls: type, where: str) -> None:
    """A TOML table for dataclass `cls`: a table at all, no required key missing, every value of the kind
    its field takes. Unknown keys are `_take`'s to name."""
    if not isinstance(data, dict):
        raise ProfileError(f"{where}：应是一个表（[表名] 或 [[表名]] 下的若干行 键 = 值），现在是{_shown(data)}")
    label = named(data)
    fields = [f for f in dataclasses.fields(cls) if not f.metadata.get("internal")]
    missing = [f for f in fields if f.name not in data and f.default is dataclasses.MISSING
               and f.default_factory is dataclasses.MISSING]
    if missing:
        lines = "；".join(_HINTS.get(f.name) or _example(_KINDS.get(str(f.type), "text"), f.name) for f in missing)
        raise ProfileError(f"{where}{label}：缺少必须写的键 {'、'.join(f.name for f in missing)}，请补上：{lines}")
    for f in fields:
        kind = _KINDS.get(str(f.type))
        if kind is None or f.name not in data:
            continue
        value = data[f.name]
        if value is None and str(f.type).endswith("| None"):  # data built in code: TOML has no None
            continue
        if not _fits(kind, value):
            raise ProfileError(f"{where}.{f.name}{label}：应写成{_example(kind, f.name, value)}；"
                               f"现在写的是{_shown(value)}")
        if kind == "number" and not math.isfinite(value):
            raise ProfileError(f"{where}.{f.name}{label}：应是一个有限的数字，现在是 {value}")


def table_list(data: Mapping[str, Any], key: str, where: str) -> list[dict[str, Any]]:
    """`[[key]]` tables (absent: none): a list of tables, else an error naming the key."""
    value = data.get(key, [])
    if not isinstance(value, list | tuple) or not all(isinstance(v, dict) for v in value):
        raise ProfileError(f"{where}：{key} 应写成一个个 [[{key}]] 表（每个表下若干行 键 = 值），现在是{_shown(value)}")
    return list(value)


def aliases(value: Any, where: str) -> dict[str, tuple[str, ...]]:
    """`[ledger.aliases]`: column -> list of other names for it."""
    if not isinstance(value, dict):
        raise ProfileError(f"{where}.aliases：应写成一个表 [ledger.aliases]，每行 列名 = [\"别名\", …]")
    for column, names in value.items():
        if not _fits("texts", names):
            raise ProfileError(f"{where}.aliases.{column}：应写成{_example('texts', column, names)}；"
                               f"现在写的是{_shown(names)}")
    return {k: tuple(v) for k, v in value.items()}


# -- field limits and patterns --------------------------------------------------------------------------

# What each limit is called: in a profile file (the key) and in the 填报规则 sheet (the column title).
TOML_NAMES = {"max_chars": "max_chars", "min_chars": "min_chars", "min": "min", "max": "max",
              "min_side": "min_side", "max_pixels": "max_pixels", "pattern": "pattern", "choices": "choices"}


def limit_problem(spec: FieldSpec, names: Mapping[str, str] = TOML_NAMES) -> tuple[str, str] | None:
    """The first limit of `spec` no form could meet, as (attribute, Chinese explanation naming it by
    `names`), or None. A limit of 0 or less, a minimum above the maximum."""
    def n(attr: str) -> str:
        return names.get(attr, attr)

    if spec.max_chars is not None and spec.max_chars < 1:
        return "max_chars", (f"{n('max_chars')} 是 {spec.max_chars}，字数上限应是正整数（如 10），否则每份申报表都会因"
                             f"“超过上限”被退回；不限字数请删去（留空）")
    if spec.min_chars is not None and spec.min_chars < 0:
        return "min_chars", f"{n('min_chars')} 是 {spec.min_chars}，最少字数不能是负数；不限请删去（留空）"
    if spec.max_chars is not None and spec.min_chars is not None and spec.min_chars > spec.max_chars:
        return "min_chars", (f"{n('min_chars')} {spec.min_chars} 大于 {n('max_chars')} {spec.max_chars}，"
                             f"没有哪份申报表能同时满足；请检查是否写反了")
    for attr in ("min", "max"):
        value = getattr(spec, attr)
        if value is not None and not math.isfinite(value):
            return attr, f"{n(attr)} 应是一个有限的数字，现在是 {value}"
    if spec.min is not None and spec.max is not None and spec.min > spec.max:
        return "min", (f"{n('min')} {_number(spec.min)} 大于 {n('max')} {_number(spec.max)}，没有哪个数能同时满足；"
                       f"请检查是否写反了")
    for attr in ("min_side", "max_pixels"):
        value = getattr(spec, attr)
        if value is not None and value < 1:
            return attr, f"{n(attr)} 是 {value}，应是正整数（像素），不限请删去"
    if spec.type == "enum" and not spec.choices:
        return "choices", f"“{spec.name}”是选择题（enum），{n('choices')} 至少要有一个可选值"
    return None


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


_RE_REASONS = (
    ("nothing to repeat", "*、+、? 或 {…} 前面没有可以重复的内容"),
    ("multiple repeat", "*、+、? 连着写了两个"),
    ("unterminated character set", "方括号 [ 没有配对的 ]"),
    ("missing ), unterminated subpattern", "圆括号 ( 没有配对的 )"),
    ("unbalanced parenthesis", "多了一个右括号 )"),
    ("bad escape", "反斜杠 \\ 后面的写法无效"),
    ("bad character range", "方括号里的范围写反了（如 [9-0]）"),
)


def pattern_problem(pattern: str) -> str | None:
    """Why `pattern` (a 格式 rule: a regular expression the whole value must match) does not compile, with
    what to write instead; None when it compiles."""
    try:
        re.compile(pattern)
    except re.error as exc:
        detail = exc.msg
        reason = next((zh for en, zh in _RE_REASONS if detail.startswith(en)), detail)
        text = (f"“{pattern}”不是有效的格式规则（{reason}；{detail}"
                f"{f'，第 {exc.pos + 1} 个字符' if exc.pos is not None else ''}）。格式规则用的是正则表达式")
        wildcard = _from_wildcard(pattern)
        if wildcard is not None:
            return (f"{text}，不是 Excel 的通配符：“任意多个字”写 .* ，“任意一个字”写 . ；"
                    f"例如“{pattern}”应写成 {wildcard}")
        return f"{text}；要原样匹配 * ? + ( ) [ ] 等符号，请在前面加反斜杠 \\；不需要检查格式请留空"
    return None


def _from_wildcard(pattern: str) -> str | None:
    """The regular expression an Excel wildcard ("*党支部", "??党支部") means, when `pattern` reads as one."""
    if not any(c in pattern for c in "*?"):
        return None
    out = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    try:
        re.compile(out)
    except re.error:
        return None
    return out


def check_field(spec: FieldSpec, where: str) -> None:
    """A profile's field: limits a form can meet, a pattern that compiles."""
    problem = limit_problem(spec)
    if problem is not None:
        raise ProfileError(f"{where}.{problem[0]}（“{spec.name}”）：{problem[1]}")
    if spec.pattern is not None and (text := pattern_problem(spec.pattern)):
        raise ProfileError(f"{where}.pattern（“{spec.name}”）：{text}")


# -- sheet names ----------------------------------------------------------------------------------------

def check_profile(p: Profile, where: str, reserved: tuple[str, ...]) -> None:
    """Whole-profile settings a campaign could not run with: duplicate field or stage names, sheet names,
    the similarity threshold, the number of paper copies."""
    for what, names in (("fields", [f.name for f in p.fields]), ("stages", [s.name for s in p.stages])):
        if twice := sorted({n for n in names if names.count(n) > 1}):
            raise ProfileError(f"{where}: {what} 中有重名的 {'、'.join(twice)}：每个{'字段' if what == 'fields' else '阶段'}"
                               f"的 name 须各不相同")
    check_sheet_names(p, where, reserved)
    if not 0 < p.similarity.threshold <= 1:
        raise ProfileError(f"{where}: similarity.threshold 是 {p.similarity.threshold}，应是 0 到 1 之间的小数"
                           f"（如 0.85 表示 85% 相似）")
    if p.similarity.severity not in ("error", "warning"):
        raise ProfileError(f"{where}: similarity.severity 只能是 \"error\" 或 \"warning\"")
    if p.paper is not None and p.paper.copies < 1:
        raise ProfileError(f"{where}: paper.copies 是 {p.paper.copies}，纸质版份数应是正整数（如 copies = 5）")


def check_sheet_names(p: Profile, where: str, reserved: tuple[str, ...]) -> None:
    """The ledger and log sheets: names Excel accepts (no / \\ ? * [ ] :, 1–31 characters), different from
    each other and from the sheets brandkit keeps in a master (`reserved`)."""
    from toolkit.core.changeset import sheet_name_problem

    taken: dict[str, str] = {name.lower(): f"brandkit 自用的“{name}”工作表" for name in reserved}
    for key, name in (("ledger.sheet", p.ledger.sheet), ("ledger.log_sheet", p.ledger.log_sheet)):
        if problem := sheet_name_problem(name, []):
            raise ProfileError(f"{where}: {key}：{problem}")
        if (other := taken.get(name.lower())) is not None:
            raise ProfileError(f"{where}: {key} = \"{name}\" 与{other}同名；台账、操作记录各用一张自己的工作表，"
                               f"请换一个名称（如 log_sheet = \"操作记录\"）")
        taken[name.lower()] = f" {key}（“{name}”）"


# -- the 填报规则 sheet's 必填 column ----------------------------------------------------------------------

YES = frozenset({"是", "必填", "必须", "必须填", "须填", "需填", "应填", "要", "需要", "对", "√", "✓", "✔", "☑", "✅",
                 "y", "yes", "true", "1"})
NO = frozenset({"否", "不", "非必填", "不必填", "选填", "可选", "可不填", "不需要", "不要", "不用", "免填", "无", "×", "✗",
                "✘", "☒", "❌", "x", "n", "no", "false", "0"})


def yes_no(raw: Any) -> bool | None:
    """A 必填 cell as an office types it: 是/否, √/×, Y/N, yes/no, 1/0, 必填/选填, TRUE/FALSE (None: not a mark)."""
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, int | float) and raw in (0, 1):
        return bool(raw)
    text = unicodedata.normalize("NFKC", str(raw)).strip().lower()
    text = text.replace("\ufe0f", "")
    return True if text in YES else False if text in NO else None
