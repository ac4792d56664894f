"""The timeline's time axis falls on round steps (prefect_server/ui/timeline.py)."""

from __future__ import annotations

import pytest

from prefect_server.ui import timeline


@pytest.mark.parametrize(
    ("total", "labels"),
    [
        (20, ["0", "+5 s", "+10 s", "+15 s", "+20 s"]),
        (51, ["0", "+10 s", "+20 s", "+30 s", "+40 s", "+50 s"]),
        (0.33, ["0", "+0.1 s", "+0.2 s", "+0.3 s"]),
        (4680, ["0", "+15 min", "+30 min", "+45 min", "+1 h", "+1 h 15 min"]),
        (100_000, ["0", "+6 h", "+12 h", "+18 h", "+1 d"]),
    ],
)
def test_ticks_are_round(total: float, labels: list[str]) -> None:
    ticks = timeline.axis(total, 760)
    assert [t.text for t in ticks] == labels
    assert len(ticks) <= timeline.MAX_TICKS + 1
    # Evenly spaced, starting at the label column, never past the drawing's right edge.
    xs = [t.x for t in ticks]
    assert xs[0] == timeline.LABEL_WIDTH and xs[-1] <= timeline.LABEL_WIDTH + 760
    gaps = [b - a for a, b in zip(xs, xs[1:], strict=False)]
    assert max(gaps) - min(gaps) < 0.05


def test_edge_labels_lean_inward() -> None:
    ticks = timeline.axis(20, 760)
    assert ticks[0].anchor == "start" and ticks[-1].anchor == "end"
    assert {t.anchor for t in ticks[1:-1]} == {"middle"}
    # A last tick well inside the drawing is centred on its line.
    assert timeline.axis(0.33, 760)[-1].anchor == "middle"
