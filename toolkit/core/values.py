"""A cell as written, typed by its field: the readers store it, the rules check it."""

from __future__ import annotations

import datetime as dt
import math
import unicodedata
from decimal import Decimal
from typing import Any

from toolkit.core.profile import FieldSpec
from toolkit.core.text import integral_text, parse_date, parse_integer


def cell_text(raw: Any) -> str:
    """A cell's content as text: whole-number floats as their digits, dates without a midnight time."""
    digits = integral_text(raw)
    if digits is not None:
        return digits
    if isinstance(raw, dt.datetime) and raw.time() == dt.time():
        return raw.date().isoformat()
    if isinstance(raw, dt.date):
        return raw.isoformat()
    return str(raw).strip()


def cell_number(raw: Any) -> int | float | None:
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int | float | Decimal):
        num = float(raw)
    else:
        try:
            num = float(unicodedata.normalize("NFKC", str(raw)).strip().replace(",", ""))
        except ValueError:
            return None
    if not math.isfinite(num):
        return None
    return int(num) if num == int(num) else num


def coerce(spec: FieldSpec, raw: Any) -> Any:
    """The typed value of a field as written; never loses what was written (unparseable stays text).

    text/enum/signature/phone/email -> trimmed str (13812345678.0 -> "13812345678"); integer -> int when
    one is found ("23人" -> 23); number -> int or float; date -> date; image -> text or None."""
    if raw is None:
        return None
    if spec.type == "integer":
        n, _ = parse_integer(raw)
        return n if n is not None else cell_text(raw)
    if spec.type == "number":
        num = cell_number(raw)
        return num if num is not None else cell_text(raw)
    if spec.type == "date":
        return parse_date(raw) or cell_text(raw)
    if spec.type == "image":
        return cell_text(raw) or None
    return cell_text(raw)


# -- findings -------------------------------------------------------------------------------------
