"""``prefect-server database backup``: SQLite's online copy; the pg_dump command."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from prefect_server.database.backup import backup


@pytest.mark.sqlite
def test_sqlite_copy_while_a_writer_holds_the_database(tmp_path: Path) -> None:
    source = tmp_path / "live.db"
    live = sqlite3.connect(source)
    live.execute("PRAGMA journal_mode=WAL")
    live.execute("CREATE TABLE t (x)")
    live.executemany("INSERT INTO t VALUES (?)", [(i,) for i in range(1000)])
    live.commit()
    live.execute("INSERT INTO t VALUES (-1)")  # uncommitted: not in the copy
    message = backup(f"sqlite+aiosqlite:///{source}", str(tmp_path / "copy.db"))
    live.rollback()
    assert "copy.db" in message
    copy = sqlite3.connect(tmp_path / "copy.db")
    assert copy.execute("SELECT count(*), min(x) FROM t").fetchone() == (1000, 0)
    with pytest.raises(ValueError, match="exists already"):
        backup(f"sqlite+aiosqlite:///{source}", str(tmp_path / "copy.db"))


def test_postgres_gets_the_pg_dump_command() -> None:
    text = backup("postgresql+asyncpg://user:secret@db:5432/prefect", "/backups/p.dump")
    assert (
        "pg_dump --format=custom --file=/backups/p.dump postgresql://user@db:5432/prefect" in text
    )
    assert "secret" not in text and "pg_restore" in text
