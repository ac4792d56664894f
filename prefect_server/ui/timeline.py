"""The task-run timeline (a Gantt chart) as geometry: bars in an SVG's user units.

Pure arithmetic on times, so the template only draws and the tests need no database.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from prefect_server.ui.formatting import span, state_colour

WIDTH = 960.0
LABEL_WIDTH = 200.0
ROW_HEIGHT = 22.0
BAR_HEIGHT = 14.0
AXIS_HEIGHT = 20.0
MIN_BAR = 2.0
MAX_TICKS = 6
# Round steps for the time axis, in seconds: ticks fall on +10 s, +1 min, +2 h, ...
# rather than on quarters of however long the run took (+12.7 s, +25.4 s).
STEPS = (
    0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30,
    60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 172800, 604800,
)  # fmt: skip
LIMIT = 200


@dataclass(frozen=True)
class Span:
    """One row: what it is, its state, and when it ran (``end`` None: still running)."""

    label: str
    state: str | None
    start: dt.datetime
    end: dt.datetime | None
    href: str


@dataclass(frozen=True)
class Bar:
    label: str
    state: str | None
    colour: str
    href: str
    x: float
    y: float
    width: float
    height: float
    text_y: float
    title: str


@dataclass(frozen=True)
class Tick:
    x: float
    text: str
    anchor: str = "middle"


@dataclass(frozen=True)
class Gantt:
    bars: list[Bar]
    ticks: list[Tick]
    width: float
    height: float
    label_width: float
    start: dt.datetime
    end: dt.datetime


def short(text: str, limit: int = 28) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def gantt(spans: Sequence[Span], now: dt.datetime, width: float = WIDTH) -> Gantt | None:
    """Rows in the given order, at most ``LIMIT``; None when nothing has started."""
    rows = list(spans)[:LIMIT]
    if not rows:
        return None
    start = min(s.start for s in rows)
    end = max(s.end or now for s in rows)
    total = max((end - start).total_seconds(), 1e-3)
    area = width - LABEL_WIDTH
    scale = area / total
    bars = []
    for i, s in enumerate(rows):
        finish = s.end or now
        x = LABEL_WIDTH + (s.start - start).total_seconds() * scale
        w = max(MIN_BAR, (finish - s.start).total_seconds() * scale)
        x = min(x, width - MIN_BAR)
        y = AXIS_HEIGHT + i * ROW_HEIGHT + (ROW_HEIGHT - BAR_HEIGHT) / 2
        took = span((finish - s.start).total_seconds())
        bars.append(
            Bar(
                label=short(s.label),
                state=s.state,
                colour=state_colour(s.state),
                href=s.href,
                x=round(x, 2),
                y=round(y, 2),
                width=round(min(w, width - x), 2),
                height=BAR_HEIGHT,
                text_y=round(y + BAR_HEIGHT - 3, 2),
                title=f"{s.label}: {s.state or 'no state'}, "
                + (f"{took}" if s.end else f"running for {took}"),
            )
        )
    ticks = axis(total, area)
    height = AXIS_HEIGHT + len(rows) * ROW_HEIGHT
    return Gantt(bars, ticks, width, height, LABEL_WIDTH, start, end)


def axis(total: float, area: float) -> list[Tick]:
    """Ticks at the first round step that gives at most ``MAX_TICKS`` of them."""
    step = next((s for s in STEPS if total / s <= MAX_TICKS), STEPS[-1])
    ticks = []
    k = 0
    while k * step <= total * (1 + 1e-9) and k <= MAX_TICKS:
        x = LABEL_WIDTH + area * k * step / total
        # Labels near an edge lean inward so they stay inside the drawing.
        anchor = "start" if k == 0 else "end" if x > LABEL_WIDTH + area - 30 else "middle"
        ticks.append(Tick(round(x, 2), "+" + _offset(k * step) if k else "0", anchor))
        k += 1
    return ticks


def _offset(seconds: float) -> str:
    """A tick's distance from the start: ``0.2 s``, ``5 s``, ``1 h 30 min``."""
    if seconds < 10:
        return f"{round(seconds, 3):g} s"
    return span(seconds)
