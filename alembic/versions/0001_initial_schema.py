"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-24 07:35:39.890588
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import prefect_server.database.types

revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        # Trigram indexes back the UI's name searches (_ilike).
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.create_table('tenant',
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('slug', sa.String(length=255), nullable=False),
    sa.Column('info', sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('settings', sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), 'postgresql'), server_default=sa.text("'{}'"), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created', prefect_server.database.types.Timestamp(timezone=True), nullable=False),
    sa.Column('updated', prefect_server.database.types.Timestamp(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tenant')),
    sa.UniqueConstraint('slug', name=op.f('uq_tenant_slug'))
    )
    with op.batch_alter_table('tenant', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tenant_updated'), ['updated'], unique=False)

    op.create_table('agent_config',
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('name', sa.String(), nullable=True),
    sa.Column('settings', sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), 'postgresql'), server_default=sa.text("'{}'"), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created', prefect_server.database.types.Timestamp(timezone=True), nullable=False),
    sa.Column('updated', prefect_server.database.types.Timestamp(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_agent_config_tenant_id_tenant'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_agent_config'))
    )
    with op.batch_alter_table('agent_config', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_agent_config_tenant_id'), ['tenant_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_agent_config_updated'), ['updated'], unique=False)

    op.create_table('cloud_hook',
    sa.Column('tenant_id', sa.Uuid(), nullable=True),
    sa.Column('name', sa.String(), nullable=True),
    sa.Column('states', sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('type', sa.String(), nullable=False),
    sa.Column('config', sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), 'postgresql'), server_default=sa.text("'{}'"), nullable=False),
    sa.Column('active', sa.Boolean(), server_default=sa.text('(true)'), nullable=False),
    sa.Column('version_group_id', sa.String(), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created', prefect_server.database.types.Timestamp(timezone=True), nullable=False),
    sa.Column('updated', prefect_server.database.types.Timestamp(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_cloud_hook_tenant_id_tenant'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cloud_hook'))
    )
    with op.batch_alter_table('cloud_hook', schema=None) as batch_op:
        batch_op.create_index('ix_cloud_hook_states', ['states'], unique=False, postgresql_using='gin')
        batch_op.create_index(batch_op.f('ix_cloud_hook_tenant_id'), ['tenant_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_cloud_hook_type'), ['type'], unique=False)
        batch_op.create_index(batch_op.f('ix_cloud_hook_updated'), ['updated'], unique=False)
        batch_op.create_index(batch_op.f('ix_cloud_hook_version_group_id'), ['version_group_id'], unique=False)

    op.create_table('flow_group',
    sa.Column('tenant_id', sa.Uuid(), nullable=True),
    sa.Column('name', sa.String(), nullable=True),
    sa.Column('labels', sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('schedule', sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('settings', sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), 'postgresql'), server_default=sa.text("'{}'"), nullable=False),
    sa.Column('default_parameters', sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), 'postgresql'), server_default=sa.text("'{}'"), nullable=False),
    sa.Column('run_config', sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('description', sa.String(), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created', prefect_server.database.types.Timestamp(timezone=True), nullable=False),
    sa.Column('updated', prefect_server.database.types.Timestamp(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_flow_group_tenant_id_tenant'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_flow_group'))
    )
    with op.batch_alter_table('flow_group', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_flow_group_name'), ['name'], unique=False)
        batch_op.create_index(batch_op.f('ix_flow_group_tenant_id'), ['tenant_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_flow_group_updated'), ['updated'], unique=False)

    op.create_table('message',
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('read', sa.Boolean(), server_default=sa.text('(false)'), nullable=False),
    sa.Column('type', sa.String(), nullable=True),
    sa.Column('text', sa.String(), nullable=True),
    sa.Column('content', sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), 'postgresql'), server_default=sa.text("'{}'"), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created', prefect_server.database.types.Timestamp(timezone=True), nullable=False),
    sa.Column('updated', prefect_server.database.types.Timestamp(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_message_tenant_id_tenant'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_message'))
    )
    with op.batch_alter_table('message', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_message_tenant_id'), ['tenant_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_message_updated'), ['updated'], unique=False)

    op.create_table('project',
    sa.Column('tenant_id', sa.Uuid(), nullable=True),
    sa.Column('name', sa.String(), nullable=False),
    sa.Column('description', sa.String(), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created', prefect_server.database.types.Timestamp(timezone=True), nullable=False),
    sa.Column('updated', prefect_server.database.types.Timestamp(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_project_tenant_id_tenant'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_project')),
    sa.UniqueConstraint('tenant_id', 'name', name=op.f('uq_project_tenant_id_name'))
    )
    with op.batch_alter_table('project', schema=None) as batch_op:
        batch_op.create_index('ix_project_name_trgm', ['name'], unique=False, postgresql_using='gin', postgresql_ops={'name': 'gin_trgm_ops'})
        batch_op.create_index(batch_op.f('ix_project_tenant_id'), ['tenant_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_project_updated'), ['updated'], unique=False)

    op.create_table('agent',
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('agent_config_id', sa.Uuid(), nullable=True),
    sa.Column('name', sa.String(), nullable=True),
    sa.Column('type', sa.String(), nullable=True),
    sa.Column('core_version', sa.String(), nullable=True),
    sa.Column('labels', sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), 'postgresql'), server_default=sa.text("'[]'"), nullable=False),
    sa.Column('last_queried', prefect_server.database.types.Timestamp(timezone=True), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created', prefect_server.database.types.Timestamp(timezone=True), nullable=False),
    sa.Column('updated', prefect_server.database.types.Timestamp(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['agent_config_id'], ['agent_config.id'], name=op.f('fk_agent_agent_config_id_agent_config'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_agent_tenant_id_tenant'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_agent'))
    )
    with op.batch_alter_table('agent', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_agent_agent_config_id'), ['agent_config_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_agent_tenant_id'), ['tenant_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_agent_updated'), ['updated'], unique=False)

    op.create_table('flow',
    sa.Column('tenant_id', sa.Uuid(), nullable=True),
    sa.Column('project_id', sa.Uuid(), nullable=False),
    sa.Column('flow_group_id', sa.Uuid(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=True),
    sa.Column('version_group_id', sa.String(), nullable=True),
    sa.Column('name', sa.String(), nullable=False),
    sa.Column('description', sa.String(), nullable=True),
    sa.Column('environment', sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('run_config', sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('storage', sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('parameters', sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), 'postgresql'), server_default=sa.text("'{}'"), nullable=True),
    sa.Column('archived', sa.Boolean(), server_default=sa.text('(false)'), nullable=False),
    sa.Column('core_version', sa.String(), nullable=True),
    sa.Column('settings', sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), 'postgresql'), server_default=sa.text("'{}'"), nullable=False),
    sa.Column('serialized_flow', sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('schedule', sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('is_schedule_active', sa.Boolean(), server_default=sa.text('(false)'), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created', prefect_server.database.types.Timestamp(timezone=True), nullable=False),
    sa.Column('updated', prefect_server.database.types.Timestamp(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['flow_group_id'], ['flow_group.id'], name=op.f('fk_flow_flow_group_id_flow_group'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], name=op.f('fk_flow_project_id_project'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_flow_tenant_id_tenant'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_flow'))
    )
    with op.batch_alter_table('flow', schema=None) as batch_op:
        batch_op.create_index('ix_flow_active_schedule', ['is_schedule_active', 'archived', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_flow_flow_group_id'), ['flow_group_id'], unique=False)
        batch_op.create_index('ix_flow_name_trgm', ['name'], unique=False, postgresql_using='gin', postgresql_ops={'name': 'gin_trgm_ops'})
        batch_op.create_index(batch_op.f('ix_flow_project_id'), ['project_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_flow_tenant_id'), ['tenant_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_flow_updated'), ['updated'], unique=False)
        batch_op.create_index(batch_op.f('ix_flow_version'), ['version'], unique=False)
        batch_op.create_index(batch_op.f('ix_flow_version_group_id'), ['version_group_id'], unique=False)

    op.create_table('flow_run',
    sa.Column('tenant_id', sa.Uuid(), nullable=True),
    sa.Column('flow_id', sa.Uuid(), nullable=False),
    sa.Column('parameters', sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), 'postgresql'), server_default=sa.text("'{}'"), nullable=True),
    sa.Column('context', sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('labels', sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), 'postgresql'), server_default=sa.text("'[]'"), nullable=False),
    sa.Column('run_config', sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('scheduled_start_time', prefect_server.database.types.Timestamp(timezone=True), nullable=False),
    sa.Column('auto_scheduled', sa.Boolean(), server_default=sa.text('(false)'), nullable=False),
    sa.Column('heartbeat', prefect_server.database.types.Timestamp(timezone=True), nullable=True),
    sa.Column('start_time', prefect_server.database.types.Timestamp(timezone=True), nullable=True),
    sa.Column('end_time', prefect_server.database.types.Timestamp(timezone=True), nullable=True),
    sa.Column('version', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('state', sa.String(), nullable=True),
    sa.Column('state_timestamp', prefect_server.database.types.Timestamp(timezone=True), nullable=True),
    sa.Column('state_message', sa.String(), nullable=True),
    sa.Column('state_result', sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('state_start_time', prefect_server.database.types.Timestamp(timezone=True), nullable=True),
    sa.Column('serialized_state', sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('name', sa.String(), nullable=True),
    sa.Column('times_resurrected', sa.Integer(), server_default=sa.text('0'), nullable=True),
    sa.Column('idempotency_key', sa.String(), nullable=True),
    sa.Column('agent_id', sa.Uuid(), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created', prefect_server.database.types.Timestamp(timezone=True), nullable=False),
    sa.Column('updated', prefect_server.database.types.Timestamp(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['agent_id'], ['agent.id'], name=op.f('fk_flow_run_agent_id_agent'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['flow_id'], ['flow.id'], name=op.f('fk_flow_run_flow_id_flow'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_flow_run_tenant_id_tenant'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_flow_run')),
    sa.UniqueConstraint('idempotency_key', 'flow_id', name='ix_flow_run_idempotency_key_unique')
    )
    with op.batch_alter_table('flow_run', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_flow_run_agent_id'), ['agent_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_flow_run_flow_id'), ['flow_id'], unique=False)
        batch_op.create_index('ix_flow_run_flow_id_scheduled_start_time', ['flow_id', 'scheduled_start_time'], unique=False)
        batch_op.create_index(batch_op.f('ix_flow_run_heartbeat'), ['heartbeat'], unique=False)
        batch_op.create_index('ix_flow_run_name_trgm', ['name'], unique=False, postgresql_using='gin', postgresql_ops={'name': 'gin_trgm_ops'})
        batch_op.create_index(batch_op.f('ix_flow_run_scheduled_start_time'), ['scheduled_start_time'], unique=False)
        batch_op.create_index(batch_op.f('ix_flow_run_start_time'), ['start_time'], unique=False)
        batch_op.create_index(batch_op.f('ix_flow_run_state'), ['state'], unique=False)
        batch_op.create_index('ix_flow_run_state_state_start_time', ['state', 'state_start_time'], unique=False)
        batch_op.create_index(batch_op.f('ix_flow_run_tenant_id'), ['tenant_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_flow_run_updated'), ['updated'], unique=False)

    op.create_table('task',
    sa.Column('tenant_id', sa.Uuid(), nullable=True),
    sa.Column('flow_id', sa.Uuid(), nullable=False),
    sa.Column('name', sa.String(), nullable=True),
    sa.Column('slug', sa.String(), nullable=True),
    sa.Column('description', sa.String(), nullable=True),
    sa.Column('type', sa.String(), nullable=True),
    sa.Column('max_retries', sa.Integer(), nullable=True),
    sa.Column('retry_delay', prefect_server.database.types.IntervalType(), nullable=True),
    sa.Column('trigger', sa.String(), nullable=True),
    sa.Column('mapped', sa.Boolean(), server_default=sa.text('(false)'), nullable=False),
    sa.Column('auto_generated', sa.Boolean(), server_default=sa.text('(false)'), nullable=False),
    sa.Column('cache_key', sa.String(), nullable=True),
    sa.Column('is_root_task', sa.Boolean(), server_default=sa.text('(false)'), nullable=False),
    sa.Column('is_terminal_task', sa.Boolean(), server_default=sa.text('(false)'), nullable=False),
    sa.Column('is_reference_task', sa.Boolean(), server_default=sa.text('(false)'), nullable=False),
    sa.Column('tags', sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), 'postgresql'), server_default=sa.text("'[]'"), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created', prefect_server.database.types.Timestamp(timezone=True), nullable=False),
    sa.Column('updated', prefect_server.database.types.Timestamp(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['flow_id'], ['flow.id'], name=op.f('fk_task_flow_id_flow'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_task_tenant_id_tenant'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_task')),
    sa.UniqueConstraint('flow_id', 'slug', name=op.f('uq_task_flow_id_slug'))
    )
    with op.batch_alter_table('task', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_task_flow_id'), ['flow_id'], unique=False)
        batch_op.create_index('ix_task_name_trgm', ['name'], unique=False, postgresql_using='gin', postgresql_ops={'name': 'gin_trgm_ops'})
        batch_op.create_index('ix_task_tags', ['tags'], unique=False, postgresql_using='gin')
        batch_op.create_index(batch_op.f('ix_task_tenant_id'), ['tenant_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_task_updated'), ['updated'], unique=False)

    op.create_table('edge',
    sa.Column('tenant_id', sa.Uuid(), nullable=True),
    sa.Column('flow_id', sa.Uuid(), nullable=False),
    sa.Column('upstream_task_id', sa.Uuid(), nullable=False),
    sa.Column('downstream_task_id', sa.Uuid(), nullable=False),
    sa.Column('key', sa.String(), nullable=True),
    sa.Column('mapped', sa.Boolean(), server_default=sa.text('(false)'), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created', prefect_server.database.types.Timestamp(timezone=True), nullable=False),
    sa.Column('updated', prefect_server.database.types.Timestamp(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['downstream_task_id'], ['task.id'], name=op.f('fk_edge_downstream_task_id_task'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['flow_id'], ['flow.id'], name=op.f('fk_edge_flow_id_flow'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_edge_tenant_id_tenant'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['upstream_task_id'], ['task.id'], name=op.f('fk_edge_upstream_task_id_task'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_edge')),
    sa.UniqueConstraint('flow_id', 'downstream_task_id', 'upstream_task_id', name=op.f('uq_edge_flow_id_downstream_task_id_upstream_task_id'))
    )
    with op.batch_alter_table('edge', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_edge_downstream_task_id'), ['downstream_task_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_edge_flow_id'), ['flow_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_edge_tenant_id'), ['tenant_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_edge_updated'), ['updated'], unique=False)
        batch_op.create_index(batch_op.f('ix_edge_upstream_task_id'), ['upstream_task_id'], unique=False)

    op.create_table('flow_run_state',
    sa.Column('tenant_id', sa.Uuid(), nullable=True),
    sa.Column('flow_run_id', sa.Uuid(), nullable=False),
    sa.Column('timestamp', prefect_server.database.types.Timestamp(timezone=True), nullable=False),
    sa.Column('state', sa.String(), nullable=False),
    sa.Column('message', sa.String(), nullable=True),
    sa.Column('result', sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('start_time', prefect_server.database.types.Timestamp(timezone=True), nullable=True),
    sa.Column('serialized_state', sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('version', sa.Integer(), server_default=sa.text('1'), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created', prefect_server.database.types.Timestamp(timezone=True), nullable=False),
    sa.Column('updated', prefect_server.database.types.Timestamp(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['flow_run_id'], ['flow_run.id'], name=op.f('fk_flow_run_state_flow_run_id_flow_run'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_flow_run_state_tenant_id_tenant'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_flow_run_state'))
    )
    with op.batch_alter_table('flow_run_state', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_flow_run_state_flow_run_id'), ['flow_run_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_flow_run_state_state'), ['state'], unique=False)
        batch_op.create_index(batch_op.f('ix_flow_run_state_tenant_id'), ['tenant_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_flow_run_state_timestamp'), ['timestamp'], unique=False)
        batch_op.create_index(batch_op.f('ix_flow_run_state_updated'), ['updated'], unique=False)

    op.create_table('task_run',
    sa.Column('tenant_id', sa.Uuid(), nullable=True),
    sa.Column('flow_run_id', sa.Uuid(), nullable=False),
    sa.Column('task_id', sa.Uuid(), nullable=False),
    sa.Column('map_index', sa.Integer(), server_default=sa.text('(-1)'), nullable=False),
    sa.Column('version', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('heartbeat', prefect_server.database.types.Timestamp(timezone=True), nullable=True),
    sa.Column('start_time', prefect_server.database.types.Timestamp(timezone=True), nullable=True),
    sa.Column('end_time', prefect_server.database.types.Timestamp(timezone=True), nullable=True),
    sa.Column('state', sa.String(), nullable=True),
    sa.Column('state_timestamp', prefect_server.database.types.Timestamp(timezone=True), nullable=True),
    sa.Column('state_message', sa.String(), nullable=True),
    sa.Column('state_result', sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('state_start_time', prefect_server.database.types.Timestamp(timezone=True), nullable=True),
    sa.Column('serialized_state', sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('cache_key', sa.String(), nullable=True),
    sa.Column('name', sa.String(), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created', prefect_server.database.types.Timestamp(timezone=True), nullable=False),
    sa.Column('updated', prefect_server.database.types.Timestamp(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['flow_run_id'], ['flow_run.id'], name=op.f('fk_task_run_flow_run_id_flow_run'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['task_id'], ['task.id'], name=op.f('fk_task_run_task_id_task'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_task_run_tenant_id_tenant'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_task_run')),
    sa.UniqueConstraint('flow_run_id', 'task_id', 'map_index', name='task_run_unique_identifier_key')
    )
    with op.batch_alter_table('task_run', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_task_run_cache_key'), ['cache_key'], unique=False)
        batch_op.create_index(batch_op.f('ix_task_run_flow_run_id'), ['flow_run_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_task_run_heartbeat'), ['heartbeat'], unique=False)
        batch_op.create_index('ix_task_run_name_trgm', ['name'], unique=False, postgresql_using='gin', postgresql_ops={'name': 'gin_trgm_ops'}, postgresql_where=sa.text('name IS NOT NULL'))
        batch_op.create_index(batch_op.f('ix_task_run_state'), ['state'], unique=False)
        batch_op.create_index('ix_task_run_state_state_start_time', ['state', 'state_start_time'], unique=False)
        batch_op.create_index(batch_op.f('ix_task_run_task_id'), ['task_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_task_run_tenant_id'), ['tenant_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_task_run_updated'), ['updated'], unique=False)

    op.create_table('log',
    sa.Column('tenant_id', sa.Uuid(), nullable=True),
    sa.Column('flow_run_id', sa.Uuid(), nullable=True),
    sa.Column('task_run_id', sa.Uuid(), nullable=True),
    sa.Column('timestamp', prefect_server.database.types.Timestamp(timezone=True), nullable=False),
    sa.Column('name', sa.String(), nullable=True),
    sa.Column('level', sa.String(), nullable=True),
    sa.Column('message', sa.String(), nullable=True),
    sa.Column('info', sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('is_loaded_from_archive', sa.Boolean(), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created', prefect_server.database.types.Timestamp(timezone=True), nullable=False),
    sa.Column('updated', prefect_server.database.types.Timestamp(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['flow_run_id'], ['flow_run.id'], name=op.f('fk_log_flow_run_id_flow_run'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['task_run_id'], ['task_run.id'], name=op.f('fk_log_task_run_id_task_run'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_log_tenant_id_tenant'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_log'))
    )
    with op.batch_alter_table('log', schema=None) as batch_op:
        batch_op.create_index('ix_log_flow_run_id_timestamp', ['flow_run_id', 'timestamp'], unique=False)
        batch_op.create_index(batch_op.f('ix_log_task_run_id'), ['task_run_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_log_tenant_id'), ['tenant_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_log_updated'), ['updated'], unique=False)

    op.create_table('task_run_artifact',
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('task_run_id', sa.Uuid(), nullable=False),
    sa.Column('kind', sa.String(), nullable=False),
    sa.Column('data', sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), 'postgresql'), server_default=sa.text("'{}'"), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created', prefect_server.database.types.Timestamp(timezone=True), nullable=False),
    sa.Column('updated', prefect_server.database.types.Timestamp(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['task_run_id'], ['task_run.id'], name=op.f('fk_task_run_artifact_task_run_id_task_run'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_task_run_artifact_tenant_id_tenant'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_task_run_artifact'))
    )
    with op.batch_alter_table('task_run_artifact', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_task_run_artifact_task_run_id'), ['task_run_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_task_run_artifact_tenant_id'), ['tenant_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_task_run_artifact_updated'), ['updated'], unique=False)

    op.create_table('task_run_state',
    sa.Column('tenant_id', sa.Uuid(), nullable=True),
    sa.Column('task_run_id', sa.Uuid(), nullable=False),
    sa.Column('timestamp', prefect_server.database.types.Timestamp(timezone=True), nullable=False),
    sa.Column('state', sa.String(), nullable=False),
    sa.Column('message', sa.String(), nullable=True),
    sa.Column('result', sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('start_time', prefect_server.database.types.Timestamp(timezone=True), nullable=True),
    sa.Column('serialized_state', sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('version', sa.Integer(), server_default=sa.text('1'), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created', prefect_server.database.types.Timestamp(timezone=True), nullable=False),
    sa.Column('updated', prefect_server.database.types.Timestamp(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['task_run_id'], ['task_run.id'], name=op.f('fk_task_run_state_task_run_id_task_run'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_task_run_state_tenant_id_tenant'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_task_run_state'))
    )
    with op.batch_alter_table('task_run_state', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_task_run_state_state'), ['state'], unique=False)
        batch_op.create_index(batch_op.f('ix_task_run_state_task_run_id'), ['task_run_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_task_run_state_tenant_id'), ['tenant_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_task_run_state_timestamp'), ['timestamp'], unique=False)
        batch_op.create_index(batch_op.f('ix_task_run_state_updated'), ['updated'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('task_run_state', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_task_run_state_updated'))
        batch_op.drop_index(batch_op.f('ix_task_run_state_timestamp'))
        batch_op.drop_index(batch_op.f('ix_task_run_state_tenant_id'))
        batch_op.drop_index(batch_op.f('ix_task_run_state_task_run_id'))
        batch_op.drop_index(batch_op.f('ix_task_run_state_state'))

    op.drop_table('task_run_state')
    with op.batch_alter_table('task_run_artifact', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_task_run_artifact_updated'))
        batch_op.drop_index(batch_op.f('ix_task_run_artifact_tenant_id'))
        batch_op.drop_index(batch_op.f('ix_task_run_artifact_task_run_id'))

    op.drop_table('task_run_artifact')
    with op.batch_alter_table('log', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_log_updated'))
        batch_op.drop_index(batch_op.f('ix_log_tenant_id'))
        batch_op.drop_index(batch_op.f('ix_log_task_run_id'))
        batch_op.drop_index('ix_log_flow_run_id_timestamp')

    op.drop_table('log')
    with op.batch_alter_table('task_run', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_task_run_updated'))
        batch_op.drop_index(batch_op.f('ix_task_run_tenant_id'))
        batch_op.drop_index(batch_op.f('ix_task_run_task_id'))
        batch_op.drop_index('ix_task_run_state_state_start_time')
        batch_op.drop_index(batch_op.f('ix_task_run_state'))
        batch_op.drop_index('ix_task_run_name_trgm', postgresql_using='gin', postgresql_ops={'name': 'gin_trgm_ops'}, postgresql_where=sa.text('name IS NOT NULL'))
        batch_op.drop_index(batch_op.f('ix_task_run_heartbeat'))
        batch_op.drop_index(batch_op.f('ix_task_run_flow_run_id'))
        batch_op.drop_index(batch_op.f('ix_task_run_cache_key'))

    op.drop_table('task_run')
    with op.batch_alter_table('flow_run_state', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_flow_run_state_updated'))
        batch_op.drop_index(batch_op.f('ix_flow_run_state_timestamp'))
        batch_op.drop_index(batch_op.f('ix_flow_run_state_tenant_id'))
        batch_op.drop_index(batch_op.f('ix_flow_run_state_state'))
        batch_op.drop_index(batch_op.f('ix_flow_run_state_flow_run_id'))

    op.drop_table('flow_run_state')
    with op.batch_alter_table('edge', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_edge_upstream_task_id'))
        batch_op.drop_index(batch_op.f('ix_edge_updated'))
        batch_op.drop_index(batch_op.f('ix_edge_tenant_id'))
        batch_op.drop_index(batch_op.f('ix_edge_flow_id'))
        batch_op.drop_index(batch_op.f('ix_edge_downstream_task_id'))

    op.drop_table('edge')
    with op.batch_alter_table('task', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_task_updated'))
        batch_op.drop_index(batch_op.f('ix_task_tenant_id'))
        batch_op.drop_index('ix_task_tags', postgresql_using='gin')
        batch_op.drop_index('ix_task_name_trgm', postgresql_using='gin', postgresql_ops={'name': 'gin_trgm_ops'})
        batch_op.drop_index(batch_op.f('ix_task_flow_id'))

    op.drop_table('task')
    with op.batch_alter_table('flow_run', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_flow_run_updated'))
        batch_op.drop_index(batch_op.f('ix_flow_run_tenant_id'))
        batch_op.drop_index('ix_flow_run_state_state_start_time')
        batch_op.drop_index(batch_op.f('ix_flow_run_state'))
        batch_op.drop_index(batch_op.f('ix_flow_run_start_time'))
        batch_op.drop_index(batch_op.f('ix_flow_run_scheduled_start_time'))
        batch_op.drop_index('ix_flow_run_name_trgm', postgresql_using='gin', postgresql_ops={'name': 'gin_trgm_ops'})
        batch_op.drop_index(batch_op.f('ix_flow_run_heartbeat'))
        batch_op.drop_index('ix_flow_run_flow_id_scheduled_start_time')
        batch_op.drop_index(batch_op.f('ix_flow_run_flow_id'))
        batch_op.drop_index(batch_op.f('ix_flow_run_agent_id'))

    op.drop_table('flow_run')
    with op.batch_alter_table('flow', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_flow_version_group_id'))
        batch_op.drop_index(batch_op.f('ix_flow_version'))
        batch_op.drop_index(batch_op.f('ix_flow_updated'))
        batch_op.drop_index(batch_op.f('ix_flow_tenant_id'))
        batch_op.drop_index(batch_op.f('ix_flow_project_id'))
        batch_op.drop_index('ix_flow_name_trgm', postgresql_using='gin', postgresql_ops={'name': 'gin_trgm_ops'})
        batch_op.drop_index(batch_op.f('ix_flow_flow_group_id'))
        batch_op.drop_index('ix_flow_active_schedule')

    op.drop_table('flow')
    with op.batch_alter_table('agent', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_agent_updated'))
        batch_op.drop_index(batch_op.f('ix_agent_tenant_id'))
        batch_op.drop_index(batch_op.f('ix_agent_agent_config_id'))

    op.drop_table('agent')
    with op.batch_alter_table('project', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_project_updated'))
        batch_op.drop_index(batch_op.f('ix_project_tenant_id'))
        batch_op.drop_index('ix_project_name_trgm', postgresql_using='gin', postgresql_ops={'name': 'gin_trgm_ops'})

    op.drop_table('project')
    with op.batch_alter_table('message', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_message_updated'))
        batch_op.drop_index(batch_op.f('ix_message_tenant_id'))

    op.drop_table('message')
    with op.batch_alter_table('flow_group', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_flow_group_updated'))
        batch_op.drop_index(batch_op.f('ix_flow_group_tenant_id'))
        batch_op.drop_index(batch_op.f('ix_flow_group_name'))

    op.drop_table('flow_group')
    with op.batch_alter_table('cloud_hook', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cloud_hook_version_group_id'))
        batch_op.drop_index(batch_op.f('ix_cloud_hook_updated'))
        batch_op.drop_index(batch_op.f('ix_cloud_hook_type'))
        batch_op.drop_index(batch_op.f('ix_cloud_hook_tenant_id'))
        batch_op.drop_index('ix_cloud_hook_states', postgresql_using='gin')

    op.drop_table('cloud_hook')
    with op.batch_alter_table('agent_config', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_agent_config_updated'))
        batch_op.drop_index(batch_op.f('ix_agent_config_tenant_id'))

    op.drop_table('agent_config')
    with op.batch_alter_table('tenant', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tenant_updated'))

    op.drop_table('tenant')
