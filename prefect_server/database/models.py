"""The tables of Prefect Server 1 as SQLAlchemy 2.0 models (Server 1 created them with the
migrations in ``services/postgres/alembic/versions/`` of PrefectHQ/server).

Relationship attribute names are Hasura's relationship names, as Server 1's
``services/hasura/migrations/metadata.yaml`` declares them: the
generated GraphQL layer reads them from this metadata, so a relationship or column
added here appears in the API with no other edit.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    MetaData,
    String,
    UniqueConstraint,
    Uuid,
    text,
)
from sqlalchemy import text as sql_text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from prefect_server.database.types import JSONB, IntervalType, Timestamp
from prefect_server.utilities.clock import utcnow

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {
        uuid.UUID: Uuid(),
        dt.datetime: Timestamp(),
        dt.timedelta: IntervalType(),
        dict[str, Any]: JSONB,
        list[Any]: JSONB,
        Any: JSONB,
        str: String(),
    }

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    # Maintained by the application on every write (Server 1 used triggers).
    created: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow, index=True)


def tenant_fk(nullable: bool = True) -> Mapped[Any]:
    return mapped_column(ForeignKey("tenant.id", ondelete="CASCADE"), nullable=nullable, index=True)


def trigram(table: str, column: str, **kw: Any) -> Index:
    """A trigram GIN index on PostgreSQL (for _ilike search), a plain index elsewhere."""
    return Index(
        f"ix_{table}_{column}_trgm",
        column,
        postgresql_using="gin",
        postgresql_ops={column: "gin_trgm_ops"},
        **kw,
    )


class Tenant(Base):
    __tablename__ = "tenant"

    name: Mapped[str] = mapped_column(String(255))
    slug: Mapped[str] = mapped_column(String(255), unique=True)
    info: Mapped[Any | None]
    settings: Mapped[Any] = mapped_column(default=dict, server_default=text("'{}'"))

    projects: Mapped[list[Project]] = relationship(
        back_populates="tenant", lazy="raise", passive_deletes=True
    )
    flows: Mapped[list[Flow]] = relationship(
        back_populates="tenant", lazy="raise", passive_deletes=True
    )
    flow_groups: Mapped[list[FlowGroup]] = relationship(
        back_populates="tenant", lazy="raise", passive_deletes=True
    )


class Project(Base):
    __tablename__ = "project"
    __table_args__ = (UniqueConstraint("tenant_id", "name"), trigram("project", "name"))

    tenant_id: Mapped[uuid.UUID | None] = tenant_fk()
    name: Mapped[str]
    description: Mapped[str | None]

    tenant: Mapped[Tenant | None] = relationship(back_populates="projects", lazy="raise")
    flows: Mapped[list[Flow]] = relationship(
        back_populates="project", lazy="raise", passive_deletes=True
    )


class FlowGroup(Base):
    __tablename__ = "flow_group"

    tenant_id: Mapped[uuid.UUID | None] = tenant_fk()
    name: Mapped[str | None] = mapped_column(index=True)
    labels: Mapped[Any | None]
    schedule: Mapped[Any | None]
    settings: Mapped[Any] = mapped_column(default=dict, server_default=text("'{}'"))
    default_parameters: Mapped[Any] = mapped_column(default=dict, server_default=text("'{}'"))
    run_config: Mapped[Any | None]
    description: Mapped[str | None]

    tenant: Mapped[Tenant | None] = relationship(back_populates="flow_groups", lazy="raise")
    flows: Mapped[list[Flow]] = relationship(
        back_populates="flow_group", lazy="raise", passive_deletes=True
    )


class Flow(Base):
    __tablename__ = "flow"
    __table_args__ = (trigram("flow", "name"),)

    tenant_id: Mapped[uuid.UUID | None] = tenant_fk()
    project_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("project.id", ondelete="CASCADE"), index=True
    )
    flow_group_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("flow_group.id", ondelete="CASCADE"), index=True
    )
    version: Mapped[int | None] = mapped_column(index=True)
    version_group_id: Mapped[str | None] = mapped_column(index=True)
    name: Mapped[str]
    description: Mapped[str | None]
    environment: Mapped[Any | None]
    run_config: Mapped[Any | None]
    storage: Mapped[Any | None]
    parameters: Mapped[Any | None] = mapped_column(default=dict, server_default=text("'{}'"))
    archived: Mapped[bool] = mapped_column(default=False, server_default=text("false"))
    core_version: Mapped[str | None]
    settings: Mapped[Any] = mapped_column(default=dict, server_default=text("'{}'"))
    serialized_flow: Mapped[Any | None]
    schedule: Mapped[Any | None]
    is_schedule_active: Mapped[bool] = mapped_column(default=False, server_default=text("false"))

    tenant: Mapped[Tenant | None] = relationship(back_populates="flows", lazy="raise")
    project: Mapped[Project] = relationship(back_populates="flows", lazy="raise")
    flow_group: Mapped[FlowGroup] = relationship(back_populates="flows", lazy="raise")
    tasks: Mapped[list[Task]] = relationship(
        back_populates="flow", lazy="raise", passive_deletes=True
    )
    edges: Mapped[list[Edge]] = relationship(
        back_populates="flow", lazy="raise", passive_deletes=True
    )
    flow_runs: Mapped[list[FlowRun]] = relationship(
        back_populates="flow", lazy="raise", passive_deletes=True
    )


Index("ix_flow_active_schedule", Flow.is_schedule_active, Flow.archived, Flow.id)


class Task(Base):
    __tablename__ = "task"
    __table_args__ = (
        UniqueConstraint("flow_id", "slug"),
        trigram("task", "name"),
        Index("ix_task_tags", "tags", postgresql_using="gin"),
    )

    tenant_id: Mapped[uuid.UUID | None] = tenant_fk()
    flow_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("flow.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str | None]
    slug: Mapped[str | None]
    description: Mapped[str | None]
    type: Mapped[str | None]
    max_retries: Mapped[int | None]
    retry_delay: Mapped[dt.timedelta | None]
    trigger: Mapped[str | None]
    mapped: Mapped[bool] = mapped_column(default=False, server_default=text("false"))
    auto_generated: Mapped[bool] = mapped_column(default=False, server_default=text("false"))
    cache_key: Mapped[str | None]
    is_root_task: Mapped[bool] = mapped_column(default=False, server_default=text("false"))
    is_terminal_task: Mapped[bool] = mapped_column(default=False, server_default=text("false"))
    is_reference_task: Mapped[bool] = mapped_column(default=False, server_default=text("false"))
    tags: Mapped[Any] = mapped_column(default=list, server_default=text("'[]'"))

    flow: Mapped[Flow] = relationship(back_populates="tasks", lazy="raise")
    task_runs: Mapped[list[TaskRun]] = relationship(
        back_populates="task", lazy="raise", passive_deletes=True
    )
    upstream_edges: Mapped[list[Edge]] = relationship(
        foreign_keys="Edge.downstream_task_id",
        back_populates="downstream_task",
        lazy="raise",
        passive_deletes=True,
    )
    downstream_edges: Mapped[list[Edge]] = relationship(
        foreign_keys="Edge.upstream_task_id",
        back_populates="upstream_task",
        lazy="raise",
        passive_deletes=True,
    )


class Edge(Base):
    __tablename__ = "edge"
    __table_args__ = (UniqueConstraint("flow_id", "downstream_task_id", "upstream_task_id"),)

    tenant_id: Mapped[uuid.UUID | None] = tenant_fk()
    flow_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("flow.id", ondelete="CASCADE"), index=True
    )
    upstream_task_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("task.id", ondelete="CASCADE"), index=True
    )
    downstream_task_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("task.id", ondelete="CASCADE"), index=True
    )
    key: Mapped[str | None]
    mapped: Mapped[bool] = mapped_column(default=False, server_default=text("false"))

    flow: Mapped[Flow] = relationship(back_populates="edges", lazy="raise")
    upstream_task: Mapped[Task] = relationship(
        foreign_keys=[upstream_task_id], back_populates="downstream_edges", lazy="raise"
    )
    downstream_task: Mapped[Task] = relationship(
        foreign_keys=[downstream_task_id], back_populates="upstream_edges", lazy="raise"
    )


class Agent(Base):
    __tablename__ = "agent"

    tenant_id: Mapped[uuid.UUID] = tenant_fk(nullable=False)
    agent_config_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("agent_config.id", ondelete="SET NULL"), index=True
    )
    name: Mapped[str | None]
    type: Mapped[str | None]
    core_version: Mapped[str | None]
    labels: Mapped[Any] = mapped_column(default=list, server_default=text("'[]'"))
    last_queried: Mapped[dt.datetime | None] = mapped_column(default=utcnow)

    agent_config: Mapped[AgentConfig | None] = relationship(back_populates="agents", lazy="raise")
    flow_runs: Mapped[list[FlowRun]] = relationship(
        back_populates="agent", lazy="raise", passive_deletes=True
    )


class AgentConfig(Base):
    __tablename__ = "agent_config"

    tenant_id: Mapped[uuid.UUID] = tenant_fk(nullable=False)
    name: Mapped[str | None]
    settings: Mapped[Any] = mapped_column(default=dict, server_default=text("'{}'"))

    agents: Mapped[list[Agent]] = relationship(
        back_populates="agent_config", lazy="raise", passive_deletes=True
    )


class RunColumns:
    """The columns a flow run and a task run share: a run's current state, denormalised
    from its newest state row by the state functions (``orchestration/states.py``)."""

    version: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    heartbeat: Mapped[dt.datetime | None] = mapped_column(index=True)
    start_time: Mapped[dt.datetime | None]
    end_time: Mapped[dt.datetime | None]
    state: Mapped[str | None] = mapped_column(index=True)
    state_timestamp: Mapped[dt.datetime | None]
    state_message: Mapped[str | None]
    state_result: Mapped[Any | None]
    state_start_time: Mapped[dt.datetime | None]
    serialized_state: Mapped[Any | None]


class StateColumns:
    """The columns of a state row, the same for flow runs and task runs: one entry of a
    run's history, written with the run's own state columns in one transaction."""

    timestamp: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    state: Mapped[str] = mapped_column(index=True)
    message: Mapped[str | None]
    result: Mapped[Any | None]
    start_time: Mapped[dt.datetime | None]
    serialized_state: Mapped[Any]
    version: Mapped[int | None] = mapped_column(default=1, server_default=text("1"))


# What every state write of a run sets (the mixin's columns, in their order).
RUN_STATE_COLUMNS: tuple[str, ...] = tuple(RunColumns.__annotations__)


class FlowRun(RunColumns, Base):
    __tablename__ = "flow_run"
    __table_args__ = (
        # NULL keys never collide, on both databases.
        UniqueConstraint("idempotency_key", "flow_id", name="ix_flow_run_idempotency_key_unique"),
        Index("ix_flow_run_flow_id_scheduled_start_time", "flow_id", "scheduled_start_time"),
        trigram("flow_run", "name"),
        # The run queue and lazarus look runs up by state and time.
        Index("ix_flow_run_state_state_start_time", "state", "state_start_time"),
        # Of the RunColumns, only a flow run's start_time is indexed (so it has always
        # been migrated); the mixin leaves it to each table.
        Index("ix_flow_run_start_time", "start_time"),
    )

    tenant_id: Mapped[uuid.UUID | None] = tenant_fk()
    flow_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("flow.id", ondelete="CASCADE"), index=True
    )
    parameters: Mapped[Any | None] = mapped_column(default=dict, server_default=text("'{}'"))
    context: Mapped[Any | None]
    labels: Mapped[Any] = mapped_column(default=list, server_default=text("'[]'"))
    run_config: Mapped[Any | None]
    scheduled_start_time: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    auto_scheduled: Mapped[bool] = mapped_column(default=False, server_default=text("false"))
    name: Mapped[str | None]
    times_resurrected: Mapped[int | None] = mapped_column(default=0, server_default=text("0"))
    idempotency_key: Mapped[str | None]
    agent_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("agent.id", ondelete="SET NULL"), index=True
    )

    tenant: Mapped[Tenant | None] = relationship(lazy="raise")
    flow: Mapped[Flow] = relationship(back_populates="flow_runs", lazy="raise")
    agent: Mapped[Agent | None] = relationship(back_populates="flow_runs", lazy="raise")
    task_runs: Mapped[list[TaskRun]] = relationship(
        back_populates="flow_run", lazy="raise", passive_deletes=True
    )
    states: Mapped[list[FlowRunState]] = relationship(
        back_populates="flow_run", lazy="raise", passive_deletes=True
    )
    logs: Mapped[list[Log]] = relationship(
        back_populates="flow_run", lazy="raise", passive_deletes=True
    )


class FlowRunState(StateColumns, Base):
    __tablename__ = "flow_run_state"

    tenant_id: Mapped[uuid.UUID | None] = tenant_fk()
    flow_run_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("flow_run.id", ondelete="CASCADE"), index=True
    )

    flow_run: Mapped[FlowRun] = relationship(back_populates="states", lazy="raise")


class TaskRun(RunColumns, Base):
    __tablename__ = "task_run"
    __table_args__ = (
        UniqueConstraint(
            "flow_run_id", "task_id", "map_index", name="task_run_unique_identifier_key"
        ),
        trigram("task_run", "name", postgresql_where=text("name IS NOT NULL")),
        # The zombie killer and the run queue look task runs up by state.
        Index("ix_task_run_state_state_start_time", "state", "state_start_time"),
    )

    tenant_id: Mapped[uuid.UUID | None] = tenant_fk()
    flow_run_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("flow_run.id", ondelete="CASCADE"), index=True
    )
    task_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("task.id", ondelete="CASCADE"), index=True
    )
    map_index: Mapped[int] = mapped_column(default=-1, server_default=text("-1"))
    cache_key: Mapped[str | None] = mapped_column(index=True)
    name: Mapped[str | None]

    tenant: Mapped[Tenant | None] = relationship(lazy="raise")
    flow_run: Mapped[FlowRun] = relationship(back_populates="task_runs", lazy="raise")
    task: Mapped[Task] = relationship(back_populates="task_runs", lazy="raise")
    states: Mapped[list[TaskRunState]] = relationship(
        back_populates="task_run", lazy="raise", passive_deletes=True
    )
    logs: Mapped[list[Log]] = relationship(
        back_populates="task_run", lazy="raise", passive_deletes=True
    )


class TaskRunState(StateColumns, Base):
    __tablename__ = "task_run_state"

    tenant_id: Mapped[uuid.UUID | None] = tenant_fk()
    task_run_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("task_run.id", ondelete="CASCADE"), index=True
    )

    task_run: Mapped[TaskRun] = relationship(back_populates="states", lazy="raise")


class Log(Base):
    """Server 1's log table had no primary key; ours has one, which nothing on the wire sees."""

    __tablename__ = "log"
    __table_args__ = (Index("ix_log_flow_run_id_timestamp", "flow_run_id", "timestamp"),)

    tenant_id: Mapped[uuid.UUID | None] = tenant_fk()
    flow_run_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("flow_run.id", ondelete="CASCADE")
    )
    task_run_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("task_run.id", ondelete="CASCADE"), index=True
    )
    timestamp: Mapped[dt.datetime] = mapped_column(default=utcnow)
    name: Mapped[str | None]
    level: Mapped[str | None]
    message: Mapped[str | None]
    info: Mapped[Any | None]
    is_loaded_from_archive: Mapped[bool | None]

    flow_run: Mapped[FlowRun | None] = relationship(back_populates="logs", lazy="raise")
    task_run: Mapped[TaskRun | None] = relationship(back_populates="logs", lazy="raise")


class CloudHook(Base):
    __tablename__ = "cloud_hook"
    __table_args__ = (Index("ix_cloud_hook_states", "states", postgresql_using="gin"),)

    tenant_id: Mapped[uuid.UUID | None] = tenant_fk()
    name: Mapped[str | None]
    states: Mapped[Any | None]
    type: Mapped[str] = mapped_column(index=True)
    config: Mapped[Any] = mapped_column(default=dict, server_default=text("'{}'"))
    active: Mapped[bool] = mapped_column(default=True, server_default=text("true"))
    version_group_id: Mapped[str | None] = mapped_column(index=True)


class Message(Base):
    __tablename__ = "message"

    tenant_id: Mapped[uuid.UUID] = tenant_fk(nullable=False)
    read: Mapped[bool] = mapped_column(default=False, server_default=text("false"))
    type: Mapped[str | None]
    text: Mapped[str | None]
    # ``text`` is a column name here, so the SQL-text function goes by its other name.
    content: Mapped[Any] = mapped_column(default=dict, server_default=sql_text("'{}'"))


class TaskRunArtifact(Base):
    __tablename__ = "task_run_artifact"

    tenant_id: Mapped[uuid.UUID] = tenant_fk(nullable=False)
    task_run_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("task_run.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str]
    data: Mapped[Any] = mapped_column(default=dict, server_default=text("'{}'"))

    task_run: Mapped[TaskRun] = relationship(lazy="raise")


class TaskTagLimit(Base):
    """At most ``limit`` task runs carrying ``tag`` may be Running at once (per tenant).

    Enforced by ``orchestration/concurrency.py``; the checks here only keep rows that
    bypass the domain functions (the generated Hasura inserts) from being nonsense.
    """

    __tablename__ = "task_tag_limit"
    __table_args__ = (
        UniqueConstraint("tenant_id", "tag"),
        CheckConstraint('"limit" >= 0', name="ck_task_tag_limit_limit"),
        CheckConstraint("tag <> ''", name="ck_task_tag_limit_tag"),
    )

    tenant_id: Mapped[uuid.UUID | None] = tenant_fk()
    tag: Mapped[str]
    limit: Mapped[int]


class FlowLabelLimit(Base):
    """At most ``limit`` flow runs carrying ``label`` may be Submitted or Running at once."""

    __tablename__ = "flow_label_limit"
    __table_args__ = (
        UniqueConstraint("tenant_id", "label"),
        CheckConstraint('"limit" >= 0', name="ck_flow_label_limit_limit"),
        CheckConstraint("label <> ''", name="ck_flow_label_limit_label"),
    )

    tenant_id: Mapped[uuid.UUID | None] = tenant_fk()
    label: Mapped[str]
    limit: Mapped[int]


# The tables the GraphQL layer exposes, by Hasura name.
TABLES: dict[str, type[Base]] = {
    model.__tablename__: model
    for model in (
        Agent,
        AgentConfig,
        CloudHook,
        Edge,
        Flow,
        FlowGroup,
        FlowLabelLimit,
        FlowRun,
        FlowRunState,
        Log,
        Message,
        Project,
        Task,
        TaskRun,
        TaskRunArtifact,
        TaskRunState,
        TaskTagLimit,
        Tenant,
    )
}
