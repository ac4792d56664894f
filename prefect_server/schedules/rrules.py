"""dateutil recurrence rules from Prefect 1's serialized `rrule_obj`.

Prefect stored `str(rule)` (which drops time zones) next to `_dtstart`/`_until` as
ISO texts, and rebuilt the rule from the text with those two put back; the rule
then runs on the fixed UTC offsets of those texts, and so do we.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from dateutil import rrule

from prefect_server.schedules import timezones as tzs
from prefect_server.schedules.clocks import RRULE_DEFAULT_DTSTART


def load_rrule(data: object) -> rrule.rrulebase:
    """An rrule or rruleset from `{"type": "rrule"|"rruleset", ...}`; ValueError if invalid."""
    if not isinstance(data, dict):
        raise ValueError(f"Invalid RRuleClock rrule_obj: {data!r} (expected an object)")
    kind = data.get("type")
    if kind == "rrule":
        return _rule(data)
    if kind == "rruleset":
        return _ruleset(data)
    raise ValueError(f"Invalid RRuleClock rrule_obj type: {kind!r} (expected rrule or rruleset)")


def _datetime(value: object, what: str) -> dt.datetime | None:
    """marshmallow's DateTime reading: ISO text, fixed offset if given, naive otherwise."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError(f"Invalid rrule {what}: {value!r} (expected ISO text)")
    return tzs.parse_iso(value, default_tz=None)


def _rule(data: dict[str, Any]) -> rrule.rrule:
    text = data.get("rr")
    if not isinstance(text, str):
        raise ValueError(f"Invalid rrule rr: {text!r} (expected RRULE text)")
    try:
        parsed = rrule.rrulestr(text)
    except (ValueError, TypeError, KeyError, IndexError) as exc:
        raise ValueError(f"Invalid rrule rr: {text!r}: {exc}") from exc
    if not isinstance(parsed, rrule.rrule):
        raise ValueError(f"Invalid rrule rr: {text!r} (expected a single RRULE)")
    changes: dict[str, Any] = {
        "dtstart": _datetime(data["_dtstart"], "_dtstart")
        if "_dtstart" in data
        else RRULE_DEFAULT_DTSTART
    }
    if "_until" in data:
        changes["until"] = _datetime(data["_until"], "_until")
    try:
        return parsed.replace(**changes)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"Invalid rrule: {exc}") from exc


def _list(data: dict[str, Any], key: str) -> list[Any]:
    value = data.get(key, [])
    if value is None:
        return []
    if not isinstance(value, list):
        raise ValueError(f"Invalid rruleset {key}: {value!r} (expected a list)")
    return value


def _ruleset(data: dict[str, Any]) -> rrule.rruleset:
    rules = rrule.rruleset()
    for item in _list(data, "_rrule"):
        rules.rrule(_rule(_as_dict(item)))
    for item in _list(data, "_rdate"):
        rules.rdate(_required(_datetime(item, "_rdate")))
    for item in _list(data, "_exrule"):
        rules.exrule(_rule(_as_dict(item)))
    for item in _list(data, "_exdate"):
        rules.exdate(_required(_datetime(item, "_exdate")))
    return rules


def _as_dict(item: object) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise ValueError(f"Invalid rruleset rule: {item!r} (expected an object)")
    return item


def _required(value: dt.datetime | None) -> dt.datetime:
    if value is None:
        raise ValueError("Invalid rruleset date: null")
    return value
