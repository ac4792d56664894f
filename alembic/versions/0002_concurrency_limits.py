"""concurrency limits: task_tag_limit and flow_label_limit

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import prefect_server.database.types

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _limit_table(table: str, name: str) -> None:
    op.create_table(
        table,
        sa.Column("tenant_id", sa.Uuid(), nullable=True),
        sa.Column(name, sa.String(), nullable=False),
        sa.Column("limit", sa.Integer(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column(
            "created", prefect_server.database.types.Timestamp(timezone=True), nullable=False
        ),
        sa.Column(
            "updated", prefect_server.database.types.Timestamp(timezone=True), nullable=False
        ),
        sa.CheckConstraint('"limit" >= 0', name=f"ck_{table}_limit"),
        sa.CheckConstraint(f"{name} <> ''", name=f"ck_{table}_{name}"),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenant.id"],
            name=op.f(f"fk_{table}_tenant_id_tenant"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}")),
        sa.UniqueConstraint("tenant_id", name, name=op.f(f"uq_{table}_tenant_id_{name}")),
    )
    with op.batch_alter_table(table, schema=None) as batch_op:
        batch_op.create_index(batch_op.f(f"ix_{table}_tenant_id"), ["tenant_id"], unique=False)
        batch_op.create_index(batch_op.f(f"ix_{table}_updated"), ["updated"], unique=False)


def upgrade() -> None:
    _limit_table("task_tag_limit", "tag")
    _limit_table("flow_label_limit", "label")


def downgrade() -> None:
    for table in ("flow_label_limit", "task_tag_limit"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(batch_op.f(f"ix_{table}_updated"))
            batch_op.drop_index(batch_op.f(f"ix_{table}_tenant_id"))
        op.drop_table(table)
