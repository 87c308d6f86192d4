"""File names made from user data (attachment names, senders, branch names, form file names) that every
platform brandkit runs on accepts, and that cannot escape their folder."""

from __future__ import annotations

import hashlib
import re
import unicodedata

MAX_BYTES = 200  # UTF-8, of 255 on Linux/macOS: room for a temp-file prefix or a " (2)" beside it
MAX_UNITS = 120  # UTF-16 code units, of 255 on NTFS: keeps whole paths under Windows' 260 characters
_HASH = 8  # hex digits of sha256 ending a shortened name: two long names never end alike

# Windows refuses these; / and \ separate; C1 controls (CSI, NEL …) act on terminals that list the folder
_FORBIDDEN = re.compile(r'[\x00-\x1f\x7f-\x9f<>:"/\\|?*\ud800-\udfff]')
# Windows devices: a name is one whatever its extension or trailing spaces ("con .txt", "LPT¹.xlsx")
_RESERVED = {"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$", *(f"{d}{n}" for d in ("COM", "LPT")
                                                                   for n in [*"0123456789", "¹", "²", "³"])}


def safe_name(name: str, fallback: str = "未命名", *, suffix: str = "", max_units: int = MAX_UNITS) -> str:
    """`name` + `suffix` as a file name Windows, macOS and Linux all accept: NFC-normalised; invisible
    format characters removed (bidi overrides such as U+202E, which shows "表<U+202E>xcod.xlsx" as
    "表dokx.xlsx"; zero-width spaces, BOMs); separators, control characters, lone surrogates and
    `<>:"|?*` replaced by `_`; no leading dots or spaces (hidden files, `..`) and no trailing ones
    (Windows drops them); device names (CON, NUL, COM1, LPT¹, CONIN$ …) prefixed with `_`; at most
    MAX_BYTES of UTF-8 and `max_units` (a folder's share of a path may be smaller) of UTF-16. A longer
    name is cut and ends in a short hash of the name as given, before its extension and `suffix` (ours,
    always kept whole): two names never end alike, even when they differ only in replaced characters."""
    text = _FORBIDDEN.sub("_", _visible(unicodedata.normalize("NFC", name))).strip(" .")
    if not text.strip("_. "):
        text = fallback
    if (text + suffix).split(".", 1)[0].rstrip(" ").upper() in _RESERVED:
        text = "_" + text
    stem, dot, ext = text.rpartition(".")
    if not dot or not stem or len(ext) > 10:
        stem, ext = text, ""
    else:
        ext = "." + ext
    size_bytes, size_units = _size(stem + ext + suffix)
    if size_bytes > MAX_BYTES or size_units > max_units:
        tag = "~" + hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()[:_HASH]
        stem = _cut(stem, tag + ext + suffix, max_units).rstrip(" .") + tag
    return stem + ext + suffix


def own_name(name: str, *, suffix: str = "") -> str:
    """A file name that is `name`'s alone, for one file per name (a branch's logo original), even where
    file names ignore letter case (Windows, macOS): `safe_name`, ending in a short hash of `name` when
    making it safe changed it (内科/外科党支部 and 内科:外科党支部) or when `name` is not the one spelling
    of its letters that keeps its plain name (icu党支部 and Icu党支部 beside ICU党支部), so no two names
    share (and overwrite) one file. Names with nothing to replace and no lower-case letters (内科党支部,
    ICU党支部) keep their plain file name."""
    plain = safe_name(name, suffix=suffix)
    nfc = unicodedata.normalize("NFC", name)
    if plain == nfc + suffix and _case_plain(nfc):
        return plain
    return safe_name(name + "~" + hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()[:_HASH],
                     suffix=suffix)


def _case_plain(name: str) -> bool:
    """True for the one spelling among the names equal to `name` but for letter case that may keep its
    plain file name: the upper-case one (ICU党支部, as branches abbreviate wards), and every name without
    letters that have a case (内科党支部). Two such names never differ in case only: each is a function of
    its casefold()."""
    return name == name.casefold().upper()


def _visible(text: str) -> str:
    """`text` without format characters (Unicode category Cf: bidi controls, zero-width characters)."""
    return "".join(ch for ch in text if unicodedata.category(ch) != "Cf")


def _size(text: str) -> tuple[int, int]:
    """(UTF-8 bytes, UTF-16 code units)."""
    return len(text.encode()), len(text.encode("utf-16-le")) // 2


def _cut(stem: str, tail: str, max_units: int) -> str:
    """The longest start of `stem` that fits the limits with `tail` after it."""
    tail_bytes, tail_units = _size(tail)
    room_bytes, room_units = MAX_BYTES - tail_bytes, max_units - tail_units
    for n, ch in enumerate(stem):
        ch_bytes, ch_units = _size(ch)
        room_bytes, room_units = room_bytes - ch_bytes, room_units - ch_units
        if room_bytes < 0 or room_units < 0:
            return stem[:n]
    return stem
