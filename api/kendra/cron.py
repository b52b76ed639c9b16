"""Kendra's schedule format ``cron(Min Hour DoM Month DoW Year)`` ↔ Quarry's 5-field cron.

Kendra uses the EventBridge dialect: six fields, ``?`` for "any" in one of the two day fields
and days of the week numbered 1 (Sunday) to 7. Quarry's scheduler reads classic cron: five
fields and Sunday = 0. A year other than ``*`` cannot be expressed and is refused, as is
``rate(...)``, rather than run on a different schedule than asked.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from api.kendra.errors import validation

_KENDRA = re.compile(r"^cron\((?P<fields>[^()]*)\)$")
_DIGITS = re.compile(r"\d+")


def _shift_days(field: str, shift: Callable[[int], int]) -> str:
    """Renumber the days in a day-of-week field; steps and ``#n`` ordinals stay as they are."""
    parts = []
    for part in field.split(","):
        base, slash, step = part.partition("/")
        if "#" in base:
            day, _, nth = base.partition("#")
            base = f"{_DIGITS.sub(lambda m: str(shift(int(m[0]))), day)}#{nth}"
        else:
            base = _DIGITS.sub(lambda m: str(shift(int(m[0]))), base)
        parts.append(base + slash + step)
    return ",".join(parts)


def _to_classic_day(day: int) -> int:
    if not 1 <= day <= 7:
        raise validation(f"Schedule: day of week {day} is outside 1-7 (1 is Sunday)")
    return day - 1


def to_quarry(schedule: str | None) -> str | None:
    """``cron(0 12 * * ? *)`` → ``0 12 * * *``; empty → no schedule."""
    if schedule is None or not schedule.strip():
        return None
    match = _KENDRA.match(schedule.strip())
    if match is None:
        raise validation("Schedule must be a Kendra cron expression such as 'cron(0 12 * * ? *)'")
    fields = match["fields"].split()
    if len(fields) != 6:
        raise validation(
            "Schedule: cron(...) takes six fields: minutes hours day-of-month "
            "month day-of-week year"
        )
    minute, hour, dom, month, dow, year = fields
    if year not in ("*", "?"):
        raise validation("Schedule: Quarry cannot limit a schedule to some years; use '*'")
    if "W" in dom.upper():
        raise validation("Schedule: the W (nearest weekday) day-of-month form is not supported")
    dom = "*" if dom == "?" else dom
    dow = "*" if dow == "?" else _shift_days(dow, _to_classic_day)
    return " ".join((minute, hour, dom, month, dow))


def to_kendra(schedule: str | None) -> str | None:
    """``0 12 * * *`` → ``cron(0 12 * * ? *)``, for DescribeDataSource."""
    if not schedule:
        return None
    fields = schedule.split()
    if len(fields) != 5:
        return schedule
    minute, hour, dom, month, dow = fields
    if dow == "*":
        dow = "?"
    else:
        dow = _shift_days(dow, lambda day: day % 7 + 1)
        if dom == "*":
            dom = "?"
    return f"cron({minute} {hour} {dom} {month} {dow} *)"
