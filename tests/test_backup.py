"""``prefect-server database backup``: SQLite's online copy; the pg_dump command."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from prefect_server.database.backup import backup, backup_sqlite


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


@pytest.mark.sqlite
def test_sqlite_copy_under_steady_writes_is_one_step(tmp_path: Path) -> None:
    """A copy made in several steps starts over after every write of another connection:
    under a server's steady writes it could never finish. One step, one snapshot."""
    source = tmp_path / "busy.db"
    setup = sqlite3.connect(source)
    setup.execute("PRAGMA journal_mode=WAL")
    setup.execute("CREATE TABLE t (x, pad)")
    setup.executemany("INSERT INTO t VALUES (?, ?)", [(i, "x" * 500) for i in range(20000)])
    setup.commit()
    setup.close()
    stop, wrote = threading.Event(), threading.Event()

    def writer() -> None:
        connection = sqlite3.connect(source, timeout=30)
        while not stop.is_set():
            connection.execute("INSERT INTO t VALUES (-1, 'y')")
            connection.commit()
            wrote.set()
        connection.close()

    thread = threading.Thread(target=writer)
    thread.start()
    steps: list[int] = []
    try:
        assert wrote.wait(10)
        backup_sqlite(
            str(source), tmp_path / "copy.db", lambda _, remaining, total: steps.append(remaining)
        )
    finally:
        stop.set()
        thread.join()
    assert steps == [0]
    copy = sqlite3.connect(tmp_path / "copy.db")
    assert copy.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert copy.execute("SELECT count(*) FROM t WHERE x >= 0").fetchone() == (20000,)
    assert copy.execute("SELECT count(*) FROM t WHERE x = -1").fetchone()[0] >= 1


def test_postgres_gets_the_pg_dump_command() -> None:
    text = backup("postgresql+asyncpg://user:secret@db:5432/prefect", "/backups/p.dump")
    assert (
        "pg_dump --format=custom --file=/backups/p.dump postgresql://user@db:5432/prefect" in text
    )
    assert "secret" not in text and "pg_restore" in text
