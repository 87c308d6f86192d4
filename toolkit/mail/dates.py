"""Mail times as Chinese offices mean them: `CST` is China Standard Time, clients write non-RFC dates, and
days (`--since`, the inbox's date folders) are counted in China time, the campaigns' time zone."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, timezone
from email.utils import parsedate_to_datetime

from toolkit.core.model import CHINA_TZ

_NUMERIC_ZONE = re.compile(r"[+-]\d{4}\b")
_CST = re.compile(r"\bCST\b", re.I)
# 2024-08-12 10:00:00, 2024/8/12 10:00, 2024-08-12T10:00:00+08:00, 2024年8月12日 10:00
_LOOSE = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?"
                    r"(?:\s*T?\s*(\d{1,2})\s*[:：时]\s*(\d{1,2})(?:\s*[:：分]\s*(\d{1,2}))?)?"
                    r"(?:[.,]\d+)?\s*(Z|[+-]\d{2}:?\d{2})?")


def china_day(moment: datetime) -> date:
    """The calendar day of a moment in China time (a time without a zone is taken as China time)."""
    return (moment.astimezone(CHINA_TZ) if moment.tzinfo else moment).date()


def mail_date(text: str) -> datetime | None:
    """A Date: or Received: time: RFC 5322 (zone `CST` read as +08:00), else a common non-RFC form,
    whose time is China time unless it names a zone; None when it is neither."""
    text = text.strip()
    if not _NUMERIC_ZONE.search(text):
        text = _CST.sub("+0800", text)
    try:
        return parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        pass
    m = _LOOSE.search(text)
    if not m:
        return None
    year, month, day, hour, minute, second = (int(g or 0) for g in m.groups()[:6])
    zone = m.group(7)
    tz = CHINA_TZ
    if zone == "Z":
        tz = UTC
    elif zone:
        sign = -1 if zone[0] == "-" else 1
        digits = zone[1:].replace(":", "")
        tz = timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))
    try:
        return datetime(year, month, day, hour, minute, second, tzinfo=tz)
    except ValueError:
        return None
