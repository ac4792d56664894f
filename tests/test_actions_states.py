"""States: set_flow_run_states, set_task_run_states, cancel_flow_run (Server 1's
``src/prefect_server/api/states.py`` and ``graphql/states.py``)."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from typing import Any

import pytest
from sqlalchemy import select, update

from prefect_server.database.engine import Database
from prefect_server.database.models import FlowRun, FlowRunState, TaskRun, TaskRunState
from prefect_server.orchestration import flow_run_states, task_run_states
from prefect_server.orchestration.errors import StateUpdateFailed
from prefect_server.orchestration.state_types import FINISHED_STATES, STATE_TYPES

import factories

SET_FLOW_RUN_STATES = (
    "mutation($input: set_flow_run_states_input!) "
    "{ set_flow_run_states(input: $input) { states { id status message } } }"
)
SET_TASK_RUN_STATES = (
    "mutation($input: set_task_run_states_input!) "
    "{ set_task_run_states(input: $input) { states { id status message } } }"
)
CANCEL = "mutation($input: cancel_flow_run_input!) { cancel_flow_run(input: $input) { state } }"


def core_state(kind: str, **extra: Any) -> dict[str, Any]:
    """A state as the 1.4.1 client serialises it."""
    return {
        "type": kind,
        "message": extra.pop("message", None),
        "context": {},
        "cached_inputs": {},
        "_result": {"type": "NoResultType", "__version__": "1.4.1"},
        "__version__": "1.4.1",
        **extra,
    }


async def flow_run(db: Database, table: Any = FlowRun, run_id: uuid.UUID | None = None) -> Any:
    async with db.session() as session:
        return (await session.execute(select(table).where(table.id == run_id))).scalar_one()


async def history(db: Database, model: Any, column: Any, run_id: uuid.UUID) -> list[Any]:
    async with db.session() as session:
        rows = await session.execute(select(model).where(column == run_id).order_by(model.version))
        return list(rows.scalars())


@pytest.fixture
async def flow_id(db: Database) -> uuid.UUID:
    return (await factories.flow_chain(db))[1]


async def test_flow_run_states_through_the_client_document(
    gql: Any, db: Database, flow_id: uuid.UUID
) -> None:
    run_id = await factories.create_flow_run(db, flow_id)
    for version, state in enumerate(
        [
            core_state("Submitted", message="Submitted for execution", state=None),
            core_state("Running", message="Running flow."),
        ],
        start=2,
    ):
        data = await gql(
            SET_FLOW_RUN_STATES,
            {"input": {"states": [{"flow_run_id": str(run_id), "version": 99, "state": state}]}},
        )
        assert data["set_flow_run_states"]["states"] == [
            {"id": str(run_id), "status": "SUCCESS", "message": None}
        ]
        run = await flow_run(db, FlowRun, run_id)
        # The client's version is ignored: always the current one + 1.
        assert run.version == version
    assert run.state == "Running"
    assert run.state_message == "Running flow."
    assert run.serialized_state["type"] == "Running"
    assert run.start_time == run.state_timestamp
    assert run.heartbeat is not None
    rows = await history(db, FlowRunState, FlowRunState.flow_run_id, run_id)
    assert [(r.version, r.state) for r in rows] == [
        (1, "Scheduled"),
        (2, "Submitted"),
        (3, "Running"),
    ]


async def test_one_bad_item_fails_the_whole_field(
    gql: Any, db: Database, flow_id: uuid.UUID
) -> None:
    run_id = await factories.create_flow_run(db, flow_id)
    missing = uuid.uuid4()
    response = await gql.raw(
        SET_FLOW_RUN_STATES,
        {"input": {"states": [{"flow_run_id": str(missing), "state": core_state("Running")}]}},
    )
    body = response.json()
    assert body["data"] == {"set_flow_run_states": None}
    assert body["errors"][0]["message"] == f"State update failed for flow run ID {missing}"
    await gql(
        SET_FLOW_RUN_STATES,
        {
            "input": {
                "states": [
                    {"flow_run_id": str(run_id), "state": core_state("Running")},
                    {"flow_run_id": str(run_id), "state": core_state("Success")},
                ]
            }
        },
    )
    assert (await flow_run(db, FlowRun, run_id)).version == 3


async def test_unknown_state_type_and_oversized_payload_write_nothing(
    gql: Any, db: Database, flow_id: uuid.UUID
) -> None:
    run_id = await factories.create_flow_run(db, flow_id)
    errors = await gql.errors(
        SET_FLOW_RUN_STATES,
        {"input": {"states": [{"flow_run_id": str(run_id), "state": {"type": "Bogus"}}]}},
    )
    assert errors[0]["message"] == "{'type': ['Unsupported value: Bogus']}"
    big = core_state("Running", message="x" * 1_000_001)
    errors = await gql.errors(
        SET_FLOW_RUN_STATES, {"input": {"states": [{"flow_run_id": str(run_id), "state": big}]}}
    )
    assert errors[0]["message"] == "State payload is too large."
    assert (await flow_run(db, FlowRun, run_id)).version == 1


async def test_second_submitted_within_30_seconds_is_refused(
    db: Database, flow_id: uuid.UUID
) -> None:
    run_id = await factories.create_flow_run(db, flow_id)
    await factories.set_flow_run_state(db, run_id, {"type": "Submitted"})
    with pytest.raises(
        StateUpdateFailed, match="State update failed: this run has already been submitted."
    ):
        await factories.set_flow_run_state(db, run_id, {"type": "Submitted"})
    assert (await flow_run(db, FlowRun, run_id)).version == 2
    # Once the first submission is older than the guard, a new one is accepted.
    async with db.transaction() as session:
        old = dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=31)
        await session.execute(
            update(FlowRun).where(FlowRun.id == run_id).values(state_timestamp=old)
        )
    await factories.set_flow_run_state(db, run_id, {"type": "Submitted"})
    assert (await flow_run(db, FlowRun, run_id)).version == 3


async def test_concurrent_submissions_admit_exactly_one(db: Database, flow_id: uuid.UUID) -> None:
    run_id = await factories.create_flow_run(db, flow_id)
    results = await asyncio.gather(
        *(factories.set_flow_run_state(db, run_id, {"type": "Submitted"}) for _ in range(8)),
        return_exceptions=True,
    )
    assert sum(r is None for r in results) == 1
    assert all(isinstance(r, StateUpdateFailed) for r in results if r is not None)


async def test_concurrent_task_states_never_repeat_a_version(
    db: Database, flow_id: uuid.UUID
) -> None:
    run_id = await factories.running_flow_run(db, flow_id)
    task_run_id = (await factories.task_run_ids(db, run_id))["t1-1"]
    await asyncio.gather(
        *(factories.set_task_run_state(db, task_run_id, core_state("Running")) for _ in range(20))
    )
    rows = await history(db, TaskRunState, TaskRunState.task_run_id, task_run_id)
    assert [r.version for r in rows] == list(range(1, 22))
    assert (await flow_run(db, TaskRun, task_run_id)).version == 21


@pytest.mark.parametrize("current", sorted(STATE_TYPES))
@pytest.mark.parametrize("new", ["Running", "Cancelling", "Success", "Failed"])
async def test_task_running_needs_a_running_flow_run(
    db: Database, flow_id: uuid.UUID, current: str, new: str
) -> None:
    run_id = await factories.create_flow_run(db, flow_id)
    if current != "Scheduled":
        await factories.set_flow_run_state(db, run_id, core_state(current))
    task_run_id = (await factories.task_run_ids(db, run_id))["t1-1"]
    if new in ("Running", "Cancelling") and current != "Running":
        with pytest.raises(StateUpdateFailed) as raised:
            await factories.set_task_run_state(db, task_run_id, core_state(new))
        assert str(raised.value) == (
            f"State update failed for task run ID {task_run_id}: provided a running state but "
            f"associated flow run {run_id} is not in a running state."
        )
        task_run = await flow_run(db, TaskRun, task_run_id)
        # Unchanged (a Cancelled flow run has already cancelled its task runs).
        unchanged = (2, "Cancelled") if current == "Cancelled" else (1, "Pending")
        assert (task_run.version, task_run.state, task_run.heartbeat) == (*unchanged, None)
        return
    before = await flow_run(db, TaskRun, task_run_id)
    await factories.set_task_run_state(db, task_run_id, core_state(new))
    task_run = await flow_run(db, TaskRun, task_run_id)
    assert (task_run.version, task_run.state) == (before.version + 1, new)
    assert (task_run.heartbeat is not None) == (new in ("Running", "Cancelling"))


@pytest.mark.parametrize("current", sorted(STATE_TYPES))
@pytest.mark.parametrize("new", ["Submitted", "Running", "TriggerFailed", "Cancelled", "Success"])
async def test_flow_run_state_matrix(
    db: Database, flow_id: uuid.UUID, current: str, new: str
) -> None:
    run_id = await factories.create_flow_run(db, flow_id)
    await factories.set_flow_run_state(db, run_id, core_state(current))
    before = await flow_run(db, FlowRun, run_id)
    if new == current == "Submitted":
        with pytest.raises(StateUpdateFailed):
            await factories.set_flow_run_state(db, run_id, core_state(new))
        return
    await factories.set_flow_run_state(db, run_id, core_state(new))
    run = await flow_run(db, FlowRun, run_id)
    assert (run.version, run.state) == (3, new)
    assert (run.heartbeat is not None) == (
        new in ("Submitted", "Running") or before.heartbeat is not None
    )
    # start_time: the first Running write; end_time: the latest end-state write.
    if current == "Running":
        assert run.start_time == before.start_time is not None
    elif new == "Running":
        assert run.start_time == run.state_timestamp
    else:
        assert run.start_time is None
    if new in ("Cancelled", "Success"):
        assert run.end_time == run.state_timestamp
    else:
        assert run.end_time == before.end_time


async def test_cancelled_flow_run_cancels_unfinished_task_runs(
    db: Database, flow_id: uuid.UUID
) -> None:
    run_id = await factories.running_flow_run(db, flow_id)
    task_runs = await factories.task_run_ids(db, run_id)
    await factories.set_task_run_state(db, task_runs["t1-1"], core_state("Running"))
    await factories.set_task_run_state(db, task_runs["t1-1"], core_state("Success"))
    await factories.set_task_run_state(db, task_runs["t2-1"], core_state("Running"))
    await factories.set_flow_run_state(db, run_id, core_state("Cancelled", message="stop"))
    by_slug = {slug: await flow_run(db, TaskRun, tr) for slug, tr in task_runs.items()}
    assert by_slug["t1-1"].state == "Success"
    assert by_slug["t2-1"].state == "Cancelled"
    assert by_slug["t2-1"].state_message == "stop"
    assert by_slug["x"].state == "Cancelled"


@pytest.mark.parametrize(
    ("setup", "expected"),
    [
        ([], "Cancelled"),
        (["Submitted"], "Cancelled"),
        (["Running"], "Cancelling"),
        (["Running", "Success"], "Success"),
        (["Failed"], "Failed"),
    ],
)
async def test_cancel_flow_run(
    gql: Any, db: Database, flow_id: uuid.UUID, setup: list[str], expected: str
) -> None:
    run_id = await factories.create_flow_run(db, flow_id)
    for kind in setup:
        await factories.set_flow_run_state(db, run_id, core_state(kind))
    data = await gql(CANCEL, {"input": {"flow_run_id": str(run_id)}})
    assert data == {"cancel_flow_run": {"state": expected}}
    run = await flow_run(db, FlowRun, run_id)
    assert run.state == expected
    finished = bool(setup) and setup[-1] in FINISHED_STATES
    assert run.version == 1 + len(setup) + (0 if finished else 1)
    if expected == "Cancelling":
        assert run.state_message == "Flow run is cancelling"
    elif not finished:
        assert run.state_message == "Flow run is cancelled"


async def test_cancel_unknown_flow_run(gql: Any, db: Database) -> None:
    missing = uuid.uuid4()
    errors = await gql.errors(CANCEL, {"input": {"flow_run_id": str(missing)}})
    assert errors[0]["message"] == f"Invalid flow run ID: {missing}."


async def test_task_states_through_the_client_document(
    gql: Any, db: Database, flow_id: uuid.UUID
) -> None:
    run_id = await factories.running_flow_run(db, flow_id)
    task_run_id = (await factories.task_run_ids(db, run_id))["t1-1"]
    inputs = {"y": {"type": "PrefectResult", "location": "1", "__version__": "1.4.1"}}
    for state in (
        core_state("Running", message="Starting task run.", cached_inputs=inputs),
        core_state("Failed", message="boom"),
        core_state("Retrying", start_time="2030-01-01T00:00:00+00:00", run_count=1),
        core_state("Success", _result={"type": "PrefectResult", "location": "3"}),
    ):
        data = await gql(
            SET_TASK_RUN_STATES,
            {
                "input": {
                    "states": [{"task_run_id": str(task_run_id), "version": 1, "state": state}]
                }
            },
        )
        assert data["set_task_run_states"]["states"] == [
            {"id": str(task_run_id), "status": "SUCCESS", "message": None}
        ]
    rows = await history(db, TaskRunState, TaskRunState.task_run_id, task_run_id)
    assert [r.state for r in rows] == ["Pending", "Running", "Failed", "Retrying", "Success"]
    retrying = rows[3]
    assert retrying.start_time == dt.datetime(2030, 1, 1, tzinfo=dt.timezone.utc)
    # cached_inputs of the previous state carry forward when the new state has none.
    assert all(r.serialized_state["cached_inputs"] == inputs for r in rows[1:])
    task_run = await flow_run(db, TaskRun, task_run_id)
    assert task_run.version == 5
    assert task_run.serialized_state["_result"] == {
        "type": "PrefectResult",
        "location": "3",
        "__version__": "1.4.1",
    }
    assert task_run.start_time == rows[1].timestamp
    assert task_run.end_time == rows[4].timestamp


async def test_state_row_keeps_scheduled_start_time(db: Database, flow_id: uuid.UUID) -> None:
    start = dt.datetime(2031, 5, 6, 7, 8, 9, tzinfo=dt.timezone.utc)
    run_id = await factories.create_flow_run(db, flow_id, scheduled_start_time=start)
    run = await flow_run(db, FlowRun, run_id)
    assert run.state_start_time == start
    assert run.serialized_state["start_time"] == "2031-05-06T07:08:09+00:00"


async def test_set_state_on_unknown_runs(db: Database) -> None:
    missing = uuid.uuid4()
    async with db.transaction() as session:
        with pytest.raises(StateUpdateFailed, match=f"for task run ID {missing}"):
            await task_run_states.set_task_run_state(session, missing, {"type": "Success"})
        with pytest.raises(StateUpdateFailed, match=f"for flow run ID {missing}"):
            await flow_run_states.set_flow_run_state(session, missing, {"type": "Success"})


# States as clients send them; the re-serialisation must equal Prefect Core 1.4.1's.
SAMPLES: list[dict[str, Any]] = [
    {"type": "Pending", "message": "Task run created"},
    {"type": "Running", "message": "Running flow.", "context": {"a": {"b": [1]}}},
    {"type": "Scheduled", "start_time": "2020-01-01T00:00:00+02:00"},
    {"type": "Scheduled", "start_time": "2020-01-01T00:00:00.5Z", "message": None},
    {"type": "Paused"},
    {"type": "Resume", "start_time": "2020-01-01T00:00:00"},
    {
        "type": "Retrying",
        "start_time": "2020-01-01T00:00:00+00:00",
        "run_count": 2,
        "context": {"task_run_count": 2},
    },
    {
        "type": "Queued",
        "start_time": "2020-01-01T00:00:00+00:00",
        "state": {"type": "Running", "message": "inner"},
    },
    {
        "type": "Submitted",
        "message": "Submitted for execution",
        "state": {"type": "Scheduled", "start_time": "2020-01-01T00:00:00+00:00"},
    },
    {"type": "ClientFailed", "state": None},
    {"type": "Mapped", "n_map_states": 3, "_result": {"type": "PrefectResult", "location": "1"}},
    {"type": "Looped", "loop_count": 2},
    {
        "type": "Cached",
        "cached_result_expiration": "2020-01-01T00:00:00",
        "hashed_inputs": {"x": "h"},
        "cached_parameters": {"p": 1},
        "_result": {"type": "LocalResult", "dir": "/d", "location": "l"},
    },
    {
        "type": "Success",
        "_result": {"type": "S3Result", "bucket": "b", "location": "k", "__version__": "0"},
        "cached_inputs": {"x": {"type": "PrefectResult", "location": "2"}},
        "unknown_key": 1,
    },
    {"type": "Success", "_result": {"type": "Result", "location": None}},
    {"type": "Success", "_result": {"type": "my.CustomResult", "location": "c"}},
    {"type": "Success", "_result": {"type": "GCSResult", "bucket": "g", "location": "l"}},
    {"type": "Success", "_result": {"type": "AzureResult", "container": "c", "location": "l"}},
    {
        "type": "Success",
        "_result": {"type": "SecretResult", "secret_type": "SecretBase", "location": None},
    },
    {"type": "Failed", "message": "boom", "cached_inputs": None, "context": None},
    {"type": "TimedOut"},
    {"type": "TriggerFailed"},
    {"type": "ValidationFailed"},
    {"type": "Skipped"},
    {"type": "Cancelled"},
    {"type": "Cancelling"},
    {"type": "Finished"},
]


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda s: str(s["type"]))
def test_reserialisation_equals_prefect_core(sample: dict[str, Any]) -> None:
    from prefect_server.orchestration.state_schema import parse_state

    core = pytest.importorskip("prefect.serialization.state")
    schema = core.StateSchema()
    expected = schema.dump(schema.load(sample))
    assert parse_state(sample).serialized == expected


@pytest.mark.parametrize(
    ("sample", "message"),
    [
        ({"type": "Bogus"}, "{'type': ['Unsupported value: Bogus']}"),
        ({"type": "State"}, "{'type': ['Unsupported value: State']}"),
        # Found by the mutation property test: these were internal errors.
        ({"type": ["x"]}, "{'type': [\"Invalid value: ['x']\"]}"),
        ({"type": {"a": 1}}, "{'type': [\"Invalid value: {'a': 1}\"]}"),
        ({"message": "x"}, "{'type': ['Missing data for required field.']}"),
        ({"type": "Running", "message": 3}, "{'message': ['Not a valid string.']}"),
        ({"type": "Running", "_result": None}, "{'_result': ['Field may not be null.']}"),
        ({"type": "Scheduled", "start_time": "junk"}, "{'start_time': ['Not a valid datetime.']}"),
        ({"type": "Looped", "loop_count": None}, "{'loop_count': ['Field may not be null.']}"),
        ({"type": "Running", "context": [1]}, "{'context': ['Not a valid mapping type.']}"),
    ],
)
def test_invalid_states_are_refused_like_core(sample: dict[str, Any], message: str) -> None:
    from prefect_server.orchestration.state_schema import InvalidState, parse_state

    with pytest.raises(InvalidState) as raised:
        parse_state(sample)
    assert str(raised.value) == message
