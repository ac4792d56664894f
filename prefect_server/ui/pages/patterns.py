"""The living style guide: every component of the UI on one page, from the real
macros and CSS, so a change to either shows its effect everywhere at once."""

from __future__ import annotations

import datetime as dt
import uuid

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from prefect_server.orchestration.state_types import STATE_CLASSES
from prefect_server.ui import charts
from prefect_server.ui.formatting import now
from prefect_server.ui.pages.common import Paging
from prefect_server.ui.queries.runs import RunRow
from prefect_server.ui.templating import render

router = APIRouter()
CHART_WIDTH, CHART_HEIGHT = 480.0, 90.0
# Made-up runs per hour: the chart's look, not data.
SAMPLE_BUCKETS = [
    {"Success": 4, "Failed": 1},
    {"Success": 6},
    {"Success": 3, "Running": 2, "Cancelled": 1},
    {},
    {"Success": 5, "TimedOut": 1},
    {"Scheduled": 3, "Running": 1},
]
SAMPLE_LOGS = [
    (9, "INFO", "prefect.TaskRunner", "Task 'extract': Starting task run..."),
    (7, "DEBUG", "prefect.extract", "Fetched 1204 rows in 0.8 s"),
    (4, "WARNING", "prefect.TaskRunner", "Task 'load': retrying in 10 seconds"),
    (1, "ERROR", "prefect.load", "ValueError: <bad> input, escaped like every log line"),
]


def _sample_run(name: str, state: str, moment: dt.datetime) -> RunRow:
    return RunRow(
        id=uuid.UUID(int=len(name)),
        name=name,
        state=state,
        state_message=f"A message of the {state} state.",
        state_timestamp=moment,
        state_start_time=moment,
        scheduled_start_time=moment - dt.timedelta(minutes=3),
        start_time=moment - dt.timedelta(minutes=2),
        end_time=None,
        labels=["gpu", "eu-west"],
        tenant_id=None,
        flow_id=uuid.UUID(int=1),
        flow_name="etl-nightly",
        flow_group_id=uuid.UUID(int=2),
        flow_version=3,
    )


@router.get("/patterns")
async def patterns_page(request: Request) -> Response:
    moment = now()
    hour = dt.timedelta(hours=1)
    first = moment - hour * len(SAMPLE_BUCKETS)
    bars, tallest = charts.stacked_bars(
        [(first + hour * i, first + hour * (i + 1), c) for i, c in enumerate(SAMPLE_BUCKETS)],
        width=CHART_WIDTH,
        height=CHART_HEIGHT,
    )
    context = {
        "states": [name for name in STATE_CLASSES if name not in ("State", "_MetaState")],
        "runs": [
            _sample_run("crimson-otter", "Running", moment - dt.timedelta(seconds=40)),
            _sample_run("quiet-heron", "Failed", moment - dt.timedelta(minutes=12)),
            _sample_run("amber-fox", "Success", moment - dt.timedelta(hours=3)),
        ],
        "bars": bars,
        "tallest": tallest,
        "chart": (CHART_WIDTH, CHART_HEIGHT),
        "paging": Paging(page=2, size=25),
        "now": moment,
        # The shapes the run pages' log macro reads (a log row and the filter).
        "log_lines": [
            {
                "timestamp": moment - dt.timedelta(seconds=ago),
                "level": level,
                "name": name,
                "message": text,
            }
            for ago, level, name, text in SAMPLE_LOGS
        ],
        "log_filter": {"page": 1, "text": "", "level": "DEBUG"},
    }
    return render(request, "patterns.html", context)
