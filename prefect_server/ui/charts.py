"""Chart geometry for SVG drawn by the templates: the numbers, no markup."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

from prefect_server.ui.formatting import state_colour

# Stacking order, bottom to top: what finished, what runs, what waits.
STACK_ORDER = (
    "Success",
    "Cached",
    "Mapped",
    "Skipped",
    "Looped",
    "Failed",
    "TriggerFailed",
    "TimedOut",
    "ValidationFailed",
    "Cancelled",
    "Cancelling",
    "Running",
    "Submitted",
    "Queued",
    "Retrying",
    "Resume",
    "Paused",
    "Scheduled",
    "Pending",
)


@dataclass
class Segment:
    state: str
    count: int
    y: float
    height: float
    colour: str


@dataclass
class Bar:
    x: float
    width: float
    start: dt.datetime
    end: dt.datetime
    total: int
    segments: list[Segment] = field(default_factory=list)


def _order(state: str) -> int:
    return STACK_ORDER.index(state) if state in STACK_ORDER else len(STACK_ORDER)


def stacked_bars(
    buckets: Sequence[tuple[dt.datetime, dt.datetime, dict[str, int]]],
    *,
    width: float,
    height: float,
    gap: float = 2.0,
) -> tuple[list[Bar], int]:
    """Bars of equal width across ``width``, scaled so the tallest fills ``height``."""
    if not buckets:
        return [], 0
    tallest = max((sum(c.values()) for _, _, c in buckets), default=0)
    slot = width / len(buckets)
    bars = []
    for i, (start, end, counts) in enumerate(buckets):
        bar = Bar(x=i * slot + gap / 2, width=max(slot - gap, 1), start=start, end=end, total=0)
        y = height
        for state in sorted(counts, key=_order):
            n = counts[state]
            if not n:
                continue
            h = height * n / tallest if tallest else 0
            y -= h
            bar.segments.append(Segment(state, n, y, h, state_colour(state)))
            bar.total += n
        bars.append(bar)
    return bars, tallest
