"""Alembic builds exactly the models' schema, and can be walked down and up again.

These tests run on the suite's database (SQLite or PostgreSQL) and leave it migrated
to head, so the tests after them find the schema they expect.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Column, Integer, MetaData, Table
from sqlalchemy.engine import Connection

from prefect_server.database import migrations
from prefect_server.database.models import Base

from dbutil import current_revision, inspect_with, table_names

MODEL_TABLES = set(Base.metadata.tables)


def _diff(metadata: MetaData) -> Any:
    def run(connection: Connection) -> list[Any]:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "compare_server_default": True}
        )
        return compare_metadata(context, metadata)

    return run


@pytest.fixture
def migrated(database_url: str) -> Any:
    yield database_url
    # Whatever happened, later tests need the full schema back.
    migrations.upgrade(database_url)


async def test_upgrade_downgrade_upgrade(migrated: str) -> None:
    migrations.upgrade(migrated)
    assert MODEL_TABLES <= await inspect_with(migrated, table_names)
    assert await inspect_with(migrated, current_revision) == "0002"

    migrations.downgrade(migrated)
    assert await inspect_with(migrated, table_names) & MODEL_TABLES == set()
    assert await inspect_with(migrated, current_revision) is None

    migrations.upgrade(migrated)
    assert MODEL_TABLES <= await inspect_with(migrated, table_names)
    assert await inspect_with(migrated, _diff(Base.metadata)) == []


async def test_reset_rebuilds_an_empty_schema(migrated: str) -> None:
    migrations.reset(migrated)
    assert MODEL_TABLES <= await inspect_with(migrated, table_names)
    assert await inspect_with(migrated, current_revision) == "0002"


async def test_migrated_schema_equals_the_models(migrated: str) -> None:
    migrations.upgrade(migrated)
    assert await inspect_with(migrated, _diff(Base.metadata)) == []


async def test_the_comparison_sees_drift(migrated: str) -> None:
    """Guards the test above: a model the migration lacks must show up as a diff."""
    drifted = MetaData(naming_convention=Base.metadata.naming_convention)
    for table in Base.metadata.tables.values():
        table.to_metadata(drifted)
    Table("not_migrated", drifted, Column("id", Integer, primary_key=True))
    drifted.tables["tenant"].append_column(Column("extra", Integer))

    diff = await inspect_with(migrated, _diff(drifted))

    kinds = {(entry[0], getattr(entry[1], "name", None)) for entry in diff if entry}
    assert ("add_table", "not_migrated") in kinds
    assert any(entry[0] == "add_column" and entry[3].name == "extra" for entry in diff)


@pytest.mark.postgres
def test_replicas_migrating_at_once_take_turns(migrated: str) -> None:
    """Several server processes starting together on one PostgreSQL each upgrade."""
    migrations.downgrade(migrated)
    script = "import sys; from prefect_server.database import migrations; migrations.upgrade(sys.argv[1])"
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", script, migrated],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for _ in range(4)
    ]
    outputs = [p.communicate(timeout=180)[0] for p in processes]
    assert [p.returncode for p in processes] == [0] * 4, outputs
    assert asyncio.run(inspect_with(migrated, current_revision)) == "0002"
    assert asyncio.run(inspect_with(migrated, _diff(Base.metadata))) == []
