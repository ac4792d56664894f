"""A cron expression said in English: ``0 6 * * 1-5`` is "at 06:00, Monday through Friday".

Only the five-field forms the scheduler accepts are read; anything else (a sixth field,
a ``L`` or ``#`` extension) returns None and the page shows the expression alone, so a
sentence is never a guess.
"""

from __future__ import annotations

import re

MONTHS = (
    "January February March April May June July August September October November December"
).split()
DAYS = "Sunday Monday Tuesday Wednesday Thursday Friday Saturday".split()
ALIASES = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
# (lowest, highest) per field: minute, hour, day of month, month, day of week (7 is Sunday).
BOUNDS = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 7))
ITEM = re.compile(r"^(\*|\w+(?:-\w+)?)(?:/(\d+))?$")
MAX_TIMES = 6
MAX_LISTED = 12


class Unreadable(ValueError):
    pass


def _number(text: str, field: int) -> int:
    names = MONTHS if field == 3 else DAYS if field == 4 else ()
    for i, name in enumerate(names):
        if text.lower() == name[:3].lower():
            return i + 1 if field == 3 else i
    if not text.isdigit():
        raise Unreadable(text)
    value = int(text)
    low, high = BOUNDS[field]
    if not low <= value <= high:
        raise Unreadable(text)
    return value


def _items(text: str, field: int) -> list[tuple[int, int, int]]:
    """``1-5,10/2`` as (first, last, step) triples; ``*`` is the whole range."""
    items = []
    for piece in text.split(","):
        match = ITEM.match(piece)
        if not match:
            raise Unreadable(piece)
        body, step = match.group(1), int(match.group(2) or 1)
        if step < 1:
            raise Unreadable(piece)
        low, high = BOUNDS[field]
        if body == "*":
            first, last = low, (6 if field == 4 else high)
        elif "-" in body:
            first, last = (_number(part, field) for part in body.split("-"))
            if first > last:
                raise Unreadable(piece)
        else:
            first = _number(body, field)
            last = high if match.group(2) else first
        items.append((first, last, step))
    return items


def _values(items: list[tuple[int, int, int]]) -> list[int]:
    return sorted({v for first, last, step in items for v in range(first, last + 1, step)})


def _name(value: int, field: int) -> str:
    if field == 3:
        return MONTHS[value - 1]
    if field == 4:
        return DAYS[value % 7]
    return str(value)


def _join(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def _phrase(items: list[tuple[int, int, int]], field: int) -> str:
    """``Monday through Friday``, ``every 2nd hour``, ``1 and 15``."""
    said = []
    for first, last, step in items:
        low, high = BOUNDS[field]
        whole = first == low and last >= (6 if field == 4 else high)
        if step > 1:
            unit = ("minute", "hour", "day", "month", "day")[field]
            every = f"every {_ordinal(step)} {unit}"
            said.append(
                every
                if whole
                else f"{every} from {_name(first, field)} through {_name(last, field)}"
            )
        elif first == last:
            said.append(_name(first, field))
        else:
            said.append(f"{_name(first, field)} through {_name(last, field)}")
    return _join(said)


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _every(text: str) -> bool:
    return text == "*"


def _stepped(items: list[tuple[int, int, int]], field: int) -> int | None:
    """The n of ``*/n``: one step over the field's whole range."""
    if len(items) == 1 and items[0][2] > 1 and items[0][0] == BOUNDS[field][0]:
        return items[0][2]
    return None


def _time(minute: str, hour: str) -> str:
    minutes, hours = _items(minute, 0), _items(hour, 1)
    m_values, h_values = _values(minutes), _values(hours)
    m_step, h_step = _stepped(minutes, 0), _stepped(hours, 1)
    if not (_every(minute) or _every(hour) or m_step or h_step):
        if len(m_values) * len(h_values) <= MAX_TIMES:
            return "at " + _join([f"{h:02d}:{m:02d}" for h in h_values for m in m_values])
    if _every(minute):
        said = "every minute"
    elif m_step:
        said = f"every {m_step} minutes"
    elif m_values == [0]:
        said = "on the hour"
    elif len(m_values) == 1:
        said = f"at minute {m_values[0]}"
    elif len(m_values) <= MAX_LISTED:
        said = f"at minutes {_join([str(v) for v in m_values])}"
    else:
        said = f"at minutes {_phrase(minutes, 0)}"
    if _every(hour):
        return said if said.startswith("every") else f"every hour {said}"
    if h_step:
        if said.startswith("every"):
            return f"{said} of every {_ordinal(h_step)} hour"
        return f"every {h_step} hours, {said}"
    plural = "s" if len(h_values) > 1 else ""
    return f"{said} during hour{plural} {_phrase(hours, 1)}"


def describe(expression: str, day_or: bool = True) -> str | None:
    """The expression in words, or None when it is not a plain five-field cron."""
    text = ALIASES.get(expression.strip().lower(), expression)
    fields = text.split()
    if len(fields) != 5:
        return None
    minute, hour, dom, month, dow = fields
    try:
        parts = [_time(minute, hour)]
        days = []
        if not _every(dom):
            items = _items(dom, 2)
            said = _phrase(items, 2)
            if not said.startswith("every"):
                said = ("days " if len(_values(items)) > 1 else "day ") + said
            days.append(f"on {said} of the month")
        if not _every(dow):
            days.append(f"on {_phrase(_items(dow, 4), 4)}")
        if days:
            parts.append((" or " if day_or else " and ").join(days))
        if not _every(month):
            parts.append(f"in {_phrase(_items(month, 3), 3)}")
    except Unreadable:
        return None
    return ", ".join(parts)
