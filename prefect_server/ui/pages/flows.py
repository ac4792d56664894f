"""The flows list, a flow's page, and its two actions: run it, turn its schedule on or off.

A flow here is a flow group (all versions of one flow); URLs carry the group id and
actions apply to its current version, as the Prefect 1 UI did.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter
from sqlalchemy.exc import DBAPIError
from starlette.requests import Request
from starlette.responses import Response

from prefect_server.database.models import Flow, FlowGroup
from prefect_server.orchestration import flow_schedules, runs
from prefect_server.orchestration.errors import APIError
from prefect_server.orchestration.state_types import STATE_TYPES
from prefect_server.ui import graph, schedule_words, security
from prefect_server.ui.formatting import now
from prefect_server.ui.pages.common import Paging, database, id_from_url, nul_refusal, require
from prefect_server.ui.queries import flows as queries
from prefect_server.ui.queries.runs import projects
from prefect_server.ui.templating import fragment_of, render, wants
from prefect_server.utilities.ids import parse_id

router = APIRouter()
PARAMETER_TYPE = "prefect.core.parameter.Parameter"


@dataclass(frozen=True)
class Parameter:
    name: str
    required: bool
    has_default: bool
    default: Any
    from_group: bool  # the flow group's default_parameters override the flow's default

    @property
    def default_json(self) -> str:
        return json.dumps(self.default, indent=None) if self.has_default else ""


def parameters_of(flow: Flow, group: FlowGroup) -> list[Parameter]:
    overrides = group.default_parameters if isinstance(group.default_parameters, dict) else {}
    found = []
    for p in flow.parameters if isinstance(flow.parameters, list) else []:
        if not isinstance(p, dict) or not isinstance(p.get("name"), str):
            continue
        name = p["name"]
        required = bool(p.get("required"))
        if name in overrides:
            found.append(Parameter(name, required, True, overrides[name], True))
        else:
            has_default = "default" in p and not (required and p.get("default") is None)
            found.append(Parameter(name, required, has_default, p.get("default"), False))
    return found


def _text(request: Request, name: str) -> str | None:
    # Without NULs: PostgreSQL refuses one in a text value, so the search would fail.
    return request.query_params.get(name, "").replace("\x00", "").strip() or None


def _type_of(config: Any) -> str | None:
    return config.get("type") if isinstance(config, dict) else None


@router.get("/flows")
async def flows_list(request: Request) -> Response:
    paging = Paging.of(request)
    project_id = parse_id(request.query_params.get("project"))
    archived = request.query_params.get("archived") in ("1", "true", "on")
    q = _text(request, "q")
    async with database(request).session() as session:
        rows, total = await queries.list_flows(
            session, paging, q=q, project_id=project_id, archived=archived, now=now()
        )
        project_choices = await projects(session)
    context = {
        "flows": rows,
        "total": total,
        "paging": paging,
        "q": q or "",
        "project_id": project_id,
        "archived": archived,
        "projects": project_choices,
    }
    return render(request, "flows.html", context)


def _version_of(request: Request) -> int | None:
    # ASCII digits only ("²".isdigit() is true); a huge number stays within the column's
    # 32-bit integer (PostgreSQL refuses a bigger one) and, like any unknown version, is a 404.
    value = request.query_params.get("version", "")
    return min(int(value), 2**31 - 1) if re.fullmatch(r"[0-9]+", value) else None


@router.get("/flows/{group_id}")
async def flow_page(request: Request, group_id: str) -> Response:
    key = id_from_url(group_id, "flow")
    fragment = fragment_of(request)
    paging = Paging.of(request)
    state = request.query_params.get("state")
    state = state if state in STATE_TYPES else None
    q = _text(request, "q")
    context: dict[str, Any] = {"paging": paging, "state": state, "q": q or ""}
    async with database(request).session() as session:
        group = require(await queries.flow_group(session, key), "flow", group_id)
        context["group"] = group
        if fragment is None:
            version = _version_of(request)
            found = require(await queries.flow_version(session, key, version), "flow", group_id)
            flow, context["project_name"] = found
            current = await queries.current_flow(session, key)
            context.update(flow=flow, current=current, states=sorted(STATE_TYPES))
            size = queries.MAX_VERSIONS
            versions_paging = Paging.of(request, size=size, max_size=size, param="versions_page")
            context["versions"], context["versions_total"] = await queries.versions(
                session, key, versions_paging
            )
            context["versions_paging"] = versions_paging
            context["parameters"] = parameters_of(flow, group)
            task_rows, context["task_total"] = await queries.tasks(session, flow.id)
            context["tasks"] = task_rows
            context["graph"] = _graph(task_rows, await queries.edges(session, flow.id))
            context["upcoming"] = await queries.upcoming(session, key, now())
            context.update(_schedule(flow, group))
        if wants(fragment, "live_runs"):
            context["runs"], context["runs_total"] = await queries.group_runs(
                session, key, paging, state=state, q=q
            )
    return render(request, "flow.html", context)


def _graph(tasks: list[Any], edges: list[Any]) -> graph.Layout | None:
    nodes = [
        graph.NodeIn(t.id, t.name or t.slug or str(t.id), parameter=t.type == PARAMETER_TYPE)
        for t in tasks
    ]
    return graph.layout(nodes, [graph.EdgeIn(e[0], e[1], bool(e[2])) for e in edges])


def labels_of(flow: Flow, group: FlowGroup) -> list[str]:
    """The labels a run gets by default: the group's if set, else its run config's."""
    if group.labels is not None:
        return list(group.labels)
    run_config = group.run_config or flow.run_config
    labels = run_config.get("labels") if isinstance(run_config, dict) else None
    return list(labels or [])


def _schedule(flow: Flow, group: FlowGroup) -> dict[str, Any]:
    schedule = group.schedule if group.schedule else flow.schedule
    return {
        "schedule": schedule,
        "schedule_source": "flow group" if group.schedule else "flow",
        "words": schedule_words.describe(schedule) if schedule else None,
        "next_times": schedule_words.next_times(schedule) if schedule else [],
        "labels": labels_of(flow, group),
        "labels_source": "flow group" if group.labels is not None else "run config",
        "run_config_type": _type_of(group.run_config or flow.run_config),
        "storage_type": _type_of(flow.storage),
    }


async def _form_context(request: Request, group_id: str) -> dict[str, Any]:
    key = id_from_url(group_id, "flow")
    async with database(request).session() as session:
        group = require(await queries.flow_group(session, key), "flow", group_id)
        flow = require(await queries.current_flow(session, key), "flow", group_id)
    return {
        "group": group,
        "flow": flow,
        "parameters": parameters_of(flow, group),
        "default_labels": ", ".join(labels_of(flow, group)),
    }


@router.get("/flows/{group_id}/run")
async def run_form(request: Request, group_id: str) -> Response:
    context = await _form_context(request, group_id)
    values = {p.name: p.default_json for p in context["parameters"]}
    context.update(values=values, errors={}, run_name="", labels="", problem=None)
    return render(request, "flow_run_form.html", context)


def read_parameters(
    parameters: list[Parameter], form: dict[str, str]
) -> tuple[dict[str, Any], dict[str, str], dict[str, str]]:
    """(parsed values, the text as typed, errors by parameter name); empty means "not given"."""
    values: dict[str, Any] = {}
    typed: dict[str, str] = {}
    errors: dict[str, str] = {}
    for p in parameters:
        text = form.get(f"param:{p.name}", "")
        typed[p.name] = text
        if not text.strip():
            if p.required:
                errors[p.name] = "This parameter is required."
            continue
        try:
            values[p.name] = json.loads(text, parse_constant=_not_json, parse_float=_finite_float)
        except ValueError as exc:  # JSONDecodeError, or a value JSON does not have
            errors[p.name] = f"Not valid JSON: {exc}"
        except RecursionError:
            errors[p.name] = "Not valid JSON here: nested too deeply."
    return values, typed, errors


def _not_json(name: str) -> Any:
    # Python's json module reads NaN and Infinity; JSON (and PostgreSQL's jsonb) has no such values.
    raise ValueError(f"{name} is not a JSON value")


def _finite_float(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise ValueError(f"{text} is too large for a JSON number")
    return value


@router.post("/flows/{group_id}/run")
async def run_flow(request: Request, group_id: str) -> Response:
    context = await _form_context(request, group_id)
    form = await security.read_form(request)
    values, typed, errors = read_parameters(context["parameters"], form)
    run_name = form.get("run_name", "").strip()
    label_text = form.get("labels", "")
    labels = [label.strip() for label in label_text.split(",") if label.strip()]
    context.update(values=typed, errors=errors, run_name=run_name, labels=label_text, problem=None)
    if not errors:
        try:
            async with database(request).transaction() as session:
                run_id = await runs.create_flow_run(
                    session,
                    flow_id=context["flow"].id,
                    parameters=values,
                    flow_run_name=run_name or None,
                    labels=labels or None,
                )
                name = await queries.run_name(session, run_id)
        except APIError as exc:
            context["problem"] = str(exc)
        except DBAPIError as exc:
            context["problem"] = nul_refusal(exc)
        else:
            prefix = request.scope.get("root_path", "") + "/ui"
            return security.redirect(
                request, f"{prefix}/flow-runs/{run_id}", f"Flow run {name} created"
            )
    return render(request, "flow_run_form.html", context, status=400)


@router.post("/flows/{group_id}/schedule")
async def set_schedule(request: Request, group_id: str) -> Response:
    key = id_from_url(group_id, "flow")
    form = await security.read_form(request)
    prefix = request.scope.get("root_path", "") + "/ui"
    back = f"{prefix}/flows/{key}"
    active = form.get("active")
    async with database(request).session() as session:
        group = require(await queries.flow_group(session, key), "flow", group_id)
        flow = require(await queries.current_flow(session, key), "flow", group_id)
    if not (group.schedule or flow.schedule):
        return security.redirect(request, back, "This flow has no schedule; nothing was changed.")
    if active not in ("true", "false"):
        return security.redirect(request, back, "Say on or off; nothing was changed.")
    try:
        async with database(request).transaction() as session:
            if active == "true":
                await flow_schedules.set_schedule_active(session, flow.id)
            else:
                await flow_schedules.set_schedule_inactive(session, flow.id)
    except APIError as exc:
        return security.redirect(request, back, f"The schedule was not turned on: {exc}")
    if active == "true":
        message = (
            f"Schedule of version {flow.version} turned on; its next runs were created "
            "and the scheduler keeps adding them."
        )
    else:
        message = (
            f"Schedule of version {flow.version} turned off; its future auto-scheduled "
            "runs that had not started were removed."
        )
    return security.redirect(request, back, message)
