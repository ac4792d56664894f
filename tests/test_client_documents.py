"""Every operation shape of the 1.4.1 client and representative operations of the
original UI, parsed and validated against the built schema. No server needed: a schema
change that would break a client fails here first, and a root field the client calls
that the schema lacks is a failure, never an expected one.

The documents are those prefect 1.4.1 sends (prefect/client/client.py,
prefect/agent/agent.py, prefect/engine/cloud/*.py, prefect/cli/*.py), keyed by the
operation they come from.
"""

from __future__ import annotations

import pytest
from graphql import parse, validate
from graphql.language import FieldNode, OperationDefinitionNode

from prefect_server.graphql.schema import build_schema

ID = '"00000000-0000-0000-0000-000000000001"'
NOW = '"2030-01-01T00:00:00+00:00"'

CLIENT = {
    "A1 tenant ids": "query { tenant { id } }",
    "A2 tenant slugs": "query { tenant { id slug } }",
    "A3 tenants by slug": "query { tenant(order_by: {slug: asc}) { id slug name } }",
    "A4 tenant view": f"query {{ tenant(where: {{ id: {{ _eq: {ID} }} }}) {{ id slug name }} }}",
    "A5 create_tenant": "mutation($input: create_tenant_input!) { create_tenant(input: $input) { id } }",
    "A6 create_project": "mutation($input: create_project_input!) { create_project(input: $input) { id } }",
    "A7 project by name": 'query { project(where: { name: { _eq: "p" } }) { id } }',
    "A8 delete_project": "mutation($input: delete_project_input!) { delete_project(input: $input) { success } }",
    "B9 create_flow_from_compressed_string": "mutation($input: create_flow_from_compressed_string_input!) { create_flow_from_compressed_string(input: $input) { id } }",
    "B9 create_flow": "mutation($input: create_flow_input!) { create_flow(input: $input) { id } }",
    "B9 register_tasks": "mutation($input: register_tasks_input!) { register_tasks(input: $input) { success } }",
    "B9 register_edges": "mutation($input: register_edges_input!) { register_edges(input: $input) { success } }",
    "B9 set_schedule_active": "mutation($input: set_schedule_active_input!) { set_schedule_active(input: $input) { success } }",
    "B9 flow group of flow": f"query {{ flow_by_pk(id: {ID}) {{ flow_group_id }} }}",
    "B10 latest flow version": f'query {{ flow(where: {{ _and: {{ name: {{ _eq: "f" }}, project: {{ id: {{ _eq: {ID} }} }} }} }}, order_by: {{ version: desc }}, limit: 1) {{ id version }} }}',
    "C11 flow view by name": 'query { flow(where: { name: { _eq: "f" }, archived: { _eq: false }, project: { name: { _eq: "p" } } }, order_by: { created: desc }) { id settings run_config serialized_flow name archived project { name } core_version storage flow_group { labels } } }',
    "C11 flow view no project": 'query { flow(where: { name: { _eq: "f" }, archived: { _eq: false }, project: { name: { _is_null: true } } }, order_by: { created: desc }) { id name } }',
    "C11 flow view by id": f"query {{ flow(where: {{ id: {{ _eq: {ID} }} }}) {{ id settings run_config serialized_flow name archived project {{ name }} core_version storage flow_group {{ labels }} }} }}",
    "C11 flow view by group": f"query {{ flow(where: {{ flow_group_id: {{ _eq: {ID} }} }}, order_by: {{ created: desc }}) {{ id }} }}",
    "C11b start flow run": 'query { flow(where: { name: { _eq: "f" }, archived: { _eq: false }, project: { name: { _eq: "p" } } }, order_by: { version: desc }, limit: 1) { id } }',
    "C12 create_flow_run": "mutation($input: create_flow_run_input!) { create_flow_run(input: $input) { id } }",
    "C13 flow run view": f"query {{ flow_run(where: {{ id: {{ _eq: {ID} }} }}) {{ id name flow_id serialized_state states {{ timestamp serialized_state }} labels parameters context updated run_config }} }}",
    "D14 register_agent": "mutation($input: register_agent_input!) { register_agent(input: $input) { id } }",
    "D14 agent config": f"query {{ agent_config(where: {{ id: {{ _eq: {ID} }} }}) {{ settings }} }}",
    "D14 hello": "query { hello }",
    "D15 get_runs_in_queue": "mutation($input: get_runs_in_queue_input!) { get_runs_in_queue(input: $input) { flow_run_ids } }",
    "D16 agent metadata": f"""query {{ flow_run(where: {{ id: {{ _in: [{ID}] }}, _or: [{{ state: {{ _eq: "Scheduled" }} }},
        {{ state: {{ _eq: "Running" }}, task_runs: {{ state_start_time: {{ _lte: {NOW} }} }} }}] }}) {{
      id version state serialized_state parameters scheduled_start_time run_config name
      flow {{ id version name environment storage core_version }}
      task_runs(where: {{ state_start_time: {{ _lte: {NOW} }} }}) {{ id version serialized_state task_id }} }} }}""",
    "E18 execute flow run": f"query {{ flow_run(where: {{ id: {{ _eq: {ID} }} }}) {{ flow {{ name storage run_config }} version }} }}",
    "E19 get_flow_run_info": f"""query {{ flow_run_by_pk(id: {ID}) {{ id name flow_id parameters context version
        scheduled_start_time serialized_state
        task_runs(where: {{ map_index: {{ _eq: -1 }} }}) {{ id task {{ id slug }} version serialized_state }}
        flow {{ project {{ name id }} }} }} }}""",
    "E20 set_flow_run_states": "mutation($input: set_flow_run_states_input!) { set_flow_run_states(input: $input) { states { id status message } } }",
    "E20 heartbeat settings": f"query {{ flow_run_by_pk(id: {ID}) {{ flow {{ settings }} }} }}",
    "E21 get_or_create_task_run_info": f"mutation {{ get_or_create_task_run_info(input: {{ flow_run_id: {ID}, task_id: {ID}, map_index: -1 }}) {{ id version serialized_state }} }}",
    "E22 flow run state": f"query {{ flow_run_by_pk(id: {ID}) {{ serialized_state }} }}",
    "E22 get_task_run_info": f"query {{ get_task_run_info(task_run_id: {ID}) {{ serialized_state }} }}",
    "E23 set_task_run_states": "mutation($input: set_task_run_states_input!) { set_task_run_states(input: $input) { states { id status message } } }",
    "E24 set_task_run_name": "mutation($input: set_task_run_name_input!) { set_task_run_name(input: $input) { success } }",
    "E24 set_flow_run_name": "mutation($input: set_flow_run_name_input!) { set_flow_run_name(input: $input) { success } }",
    "E26 flow heartbeat": f"mutation {{ update_flow_run_heartbeat(input: {{ flow_run_id: {ID} }}) {{ success }} }}",
    "E26 task heartbeat": f"mutation {{ update_task_run_heartbeat(input: {{ task_run_id: {ID} }}) {{ success }} }}",
    "E28 create artifact": "mutation($input: create_task_run_artifact_input!) { create_task_run_artifact(input: $input) { id } }",
    "E28 update artifact": "mutation($input: update_task_run_artifact_input!) { update_task_run_artifact(input: $input) { success } }",
    "E28 delete artifact": "mutation($input: delete_task_run_artifact_input!) { delete_task_run_artifact(input: $input) { success } }",
    "F30 scheduled states": f'query {{ flow_run(where: {{ id: {{ _eq: {ID} }} }}) {{ states(where: {{ state: {{ _eq: "Scheduled" }} }}) {{ start_time created }} scheduled_start_time }} }}',
    "F30 running task runs": f'query {{ task_run(where: {{ state_start_time: {{ _is_null: false }}, flow_run_id: {{ _eq: {ID} }}, flow_run: {{ state: {{ _eq: "Running" }} }} }}) {{ state_start_time }} }}',
    "G31 task run by slug": f'query {{ task_run(where: {{ task: {{ slug: {{ _eq: "s" }} }}, flow_run_id: {{ _eq: {ID} }}, map_index: {{ _eq: -1 }} }}) {{ id name task {{ id slug }} map_index serialized_state flow_run_id }} }}',
    "G31 mapped children": f'query {{ task_run(where: {{ task: {{ slug: {{ _eq: "s" }} }}, flow_run_id: {{ _eq: {ID} }}, map_index: {{ _neq: -1 }} }}, order_by: {{ map_index: asc }}) {{ id map_index }} }}',
    "G31 nin ids": f"query {{ task_run(where: {{ map_index: {{ _eq: -1 }}, flow_run_id: {{ _eq: {ID} }}, id: {{ _nin: [] }} }}) {{ id }} }}",
    "G32 task run ids": f"query {{ task_run(where: {{ flow_run_id: {{ _eq: {ID} }} }}) {{ id }} }}",
    "G33 watch logs": f"query {{ flow_run(where: {{ id: {{ _eq: {ID} }} }}) {{ logs(order_by: {{ timestamp: asc }}, where: {{ _and: [{{ timestamp: {{ _lte: {NOW} }} }}, {{}}] }}) {{ timestamp message level }} }} }}",
    "G34 agents": "query { agent { last_queried labels name id } }",
    "G35 cancel_flow_run": "mutation($input: cancel_flow_run_input!) { cancel_flow_run(input: $input) { state } }",
    "G36 get flows": 'query { flow(where: { _and: { name: { _eq: null }, version: { _eq: null }, project: { name: { _eq: "p" } } } }, order_by: { name: asc, version: desc }, distinct_on: name, limit: 10) { name version created id project { name } } }',
    "G36 get projects": "query { project(where: { _and: { name: { _eq: null } } }, order_by: { name: asc }) { name created description flows_aggregate(distinct_on: name) { aggregate { count } } } }",
    "G36 get flow runs": 'query { flow_run(where: { _and: { flow: { _and: { name: { _eq: "f" }, project: { name: { _eq: null } } } }, start_time: { _is_null: false } } }, limit: 10, order_by: { start_time: desc }) { flow { name } id created state name start_time } }',
    "G36 get tasks": 'query { task(where: { _and: { name: { _eq: null }, flow: { name: { _eq: "f" }, version: { _eq: 1 }, project: { name: { _eq: null } } } } }, limit: 10, order_by: { created: desc }) { name created flow { name version } mapped type } }',
    "G36 get logs": f"query {{ flow_run(where: {{ name: {{ _eq: null }}, id: {{ _eq: {ID} }} }}, order_by: {{ start_time: desc }}) {{ logs(order_by: {{ timestamp: asc }}) {{ timestamp message level info }} start_time }} }}",
    "G36 describe flows": 'query { flow(where: { _and: { name: { _eq: "f" } } }, order_by: { name: asc, version: desc }, distinct_on: name) { name version project { name } created description parameters archived storage environment tasks { name created slug description type max_retries retry_delay mapped } } }',
    "G36 describe flow runs": 'query { flow_run(where: { _and: { name: { _eq: "r" }, flow: { name: { _eq: "f" } } } }) { name flow { name } created parameters auto_scheduled scheduled_start_time start_time end_time serialized_state } }',
    "H37 write_run_logs": "mutation($input: write_run_logs_input!) { write_run_logs(input: $input) { success } }",
    "E25 cached by task id": f'query {{ task_run(where: {{ state: {{ _eq: "Cached" }}, state_timestamp: {{ _gte: {NOW} }}, task_id: {{ _eq: {ID} }} }}, order_by: {{ state_timestamp: desc }}, limit: 100) {{ serialized_state }} }}',
    "E25 cached by cache key": f'query {{ task_run(where: {{ state: {{ _eq: "Cached" }}, state_timestamp: {{ _gte: {NOW} }}, cache_key: {{ _eq: "k" }} }}, order_by: {{ state_timestamp: desc }}, limit: 100) {{ serialized_state }} }}',
}

UI = {
    "dashboard flow runs (17 aliases)": "query FlowRuns($projectId: uuid, $heartbeat: timestamptz) { "
    + " ".join(
        f'{s}: flow_run_aggregate(where: {{flow: {{project_id: {{_eq: $projectId}}}}, scheduled_start_time: {{_gte: $heartbeat}}, state: {{_eq: "{s}"}}}}) {{ aggregate {{ count __typename }} __typename }}'
        for s in (
            "Success Running Pending Failed ClientFailed Submitted Queued Resume Retrying "
            "Looped Cached Mapped TimedOut TriggerFailed Skipped Finished Cancelled"
        ).split()
    )
    + " }",
    "flow count": "query FlowCount($searchParams: flow_bool_exp) { flowCount: flow_aggregate(where: $searchParams) { aggregate { count } } }",
    "flow failures": 'query FlowFailures($projectId: uuid, $heartbeat: timestamptz, $tenantId: uuid) { flow_run(where: {tenant_id: {_eq: $tenantId}, flow: {project_id: {_eq: $projectId}}, state: {_eq: "Failed"}, scheduled_start_time: {_gte: $heartbeat}}, distinct_on: flow_id, order_by: [{flow_id: asc}, {scheduled_start_time: desc}]) { id flow_id flow { id name __typename } __typename } }',
    "heartbeat": "query Heartbeat($projectId: uuid, $timestamp: timestamptz, $state: String, $filterOutStates: [String!]) { flow_run(limit: 10, where: {flow: {project_id: {_eq: $projectId}}, state_timestamp: {_gte: $timestamp}, state: {_eq: $state, _nin: $filterOutStates}}, order_by: {updated: desc_nulls_last}) { id state state_message state_timestamp flow { id name } } }",
    "flow run list": "query FlowRuns($flowId: uuid, $limit: Int, $offset: Int, $orderBy: [flow_run_order_by!], $name: String, $state: [String!]) { flow_run(where: {flow_id: {_eq: $flowId}, name: {_ilike: $name}, state: {_in: $state}}, order_by: $orderBy, limit: $limit, offset: $offset) { id name scheduled_start_time start_time end_time state flow { id name project { id name } } task_runs_aggregate { aggregate { count } } } }",
    "flow run page": "query FlowRun($id: uuid!) { flow_run_by_pk(id: $id) { id name state serialized_state context parameters labels agent_id flow { id name flow_group_id version core_version project { id name } } states(order_by: {timestamp: asc}) { id state timestamp message } } }",
    "logs with defaults": "query Logs($flowRunId: uuid!, $limit: Int = 100, $offset: Int = 0, $timestamp: timestamptz) { log(where: {flow_run_id: {_eq: $flowRunId}, timestamp: {_gt: $timestamp}}, order_by: {timestamp: asc}, limit: $limit, offset: $offset) { id timestamp level message name task_run_id } }",
    "flow errors tile": 'query FlowErrors($flowId: uuid, $updated: timestamptz_comparison_exp) { flow_run(where: {flow_id: {_eq: $flowId}, state: {_eq: "Failed"}, updated: $updated}) { id } }',
    "mapped task runs": "query MappedTaskRuns($where: task_run_bool_exp!, $orderBy: [task_run_order_by!], $limit: Int, $offset: Int) { task_run(where: $where, order_by: $orderBy, limit: $limit, offset: $offset) { id map_index name state } task_run_aggregate(where: $where) { aggregate { count } } }",
    "notifications": "query Notifications($where: message_bool_exp, $orderBy: [message_order_by!]) { message(where: $where, order_by: $orderBy) { id content created read text type } }",
    "cloud hooks search": "query CloudHooks($searchParams: [cloud_hook_bool_exp!]) { cloud_hook(where: {_or: $searchParams}, order_by: {created: desc}) { id name type active states config } }",
    "schematic": "query Schematic($taskIds: _uuid) { utility_downstream_tasks(args: {start_task_ids: $taskIds}) { task { id name upstream_edges { upstream_task { id } } } depth } }",
    "calendar": "query Calendar($flowId: uuid) { flow_run(where: {flow_id: {_eq: $flowId}}, distinct_on: flow_id, order_by: [{flow_id: asc}, {scheduled_start_time: desc}], limit: 1) { id } }",
    "flow versions": "query FlowVersions($groupId: uuid) { flow(where: {flow_group_id: {_eq: $groupId}}, distinct_on: [version_group_id], order_by: {version_group_id: asc}) { id version } }",
    "project flows": "query Projects { project { id name flows_aggregate(where: {archived: {_eq: false}}) { aggregate { count } } archived: flows_aggregate(where: {archived: {_eq: true}}) { aggregate { count } } } }",
    "task run states": "query TaskRun($id: uuid!) { task_run_by_pk(id: $id) { id states_aggregate { aggregate { count } } states(order_by: {timestamp: desc}) { state } } }",
    "tenant": "query Tenants { tenant { id name slug settings } }",
    "api": "query Api { api { backend mode version } }",
}

SCHEMA = build_schema()


def _root_fields(document: str) -> set[str]:
    names: set[str] = set()
    for definition in parse(document).definitions:
        if isinstance(definition, OperationDefinitionNode):
            for selection in definition.selection_set.selections:
                if isinstance(selection, FieldNode):
                    names.add(selection.name.value)
    return names


def _defined(name: str) -> bool:
    schema = SCHEMA._schema
    roots = [schema.query_type, schema.mutation_type]
    return any(root is not None and name in root.fields for root in roots)


@pytest.mark.parametrize("document", [pytest.param(d, id=k) for k, d in {**CLIENT, **UI}.items()])
def test_document_validates(document: str) -> None:
    missing = sorted(name for name in _root_fields(document) if not _defined(name))
    assert missing == [], f"root fields the schema does not define: {missing}"
    assert [e.message for e in validate(SCHEMA._schema, parse(document))] == []


# Every root field prefect 1.4.1 calls against a Server (not Cloud: secrets, key-value
# and task tag limits are refused by the client in server mode or only called by users).
CLIENT_ROOT_FIELDS = {
    "hello",
    "get_task_run_info",
    "tenant",
    "project",
    "flow",
    "flow_by_pk",
    "flow_run",
    "flow_run_by_pk",
    "task_run",
    "task",
    "agent",
    "agent_config",
    "create_tenant",
    "create_project",
    "delete_project",
    "create_flow_from_compressed_string",
    "create_flow",
    "register_tasks",
    "register_edges",
    "set_schedule_active",
    "create_flow_run",
    "set_flow_run_states",
    "set_task_run_states",
    "cancel_flow_run",
    "get_or_create_task_run_info",
    "update_flow_run_heartbeat",
    "set_flow_run_name",
    "set_task_run_name",
    "write_run_logs",
    "register_agent",
    "get_runs_in_queue",
    "create_task_run_artifact",
    "update_task_run_artifact",
    "delete_task_run_artifact",
}


def test_every_root_field_the_client_calls_has_a_document() -> None:
    covered = set().union(*(_root_fields(document) for document in CLIENT.values()))
    assert sorted(CLIENT_ROOT_FIELDS - covered) == []
