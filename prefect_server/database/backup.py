"""Backups: SQLite's online backup for the embedded default; PostgreSQL has pg_dump."""

from __future__ import annotations

import shlex
import sqlite3
from collections.abc import Callable
from pathlib import Path

from sqlalchemy.engine import make_url


def backup(url: str, path: str) -> str:
    """Make the copy (SQLite) or say how to (PostgreSQL); returns what to tell the user."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        copied = backup_sqlite(parsed.database or "", Path(path))
        return f"Copied {parsed.database} to {copied} ({copied.stat().st_size:,} bytes)."
    if backend == "postgresql":
        return pg_dump_command(url, path)
    raise ValueError(f"Backups of {backend} databases are not supported.")


def backup_sqlite(
    database: str, target: Path, progress: Callable[[int, int, int], object] | None = None
) -> Path:
    """A consistent copy while the server writes: SQLite's online backup copies pages
    under a read transaction, so the copy is one committed state, WAL included.

    In one step: a copy made in several steps starts over whenever another connection
    writes between two of them, so under the server's steady writes a 50 MB file took
    20 s instead of 0.3 s, and a busier server could keep it from ever finishing. The
    database is in WAL mode, where that one read transaction does not block writers."""
    if not database or database == ":memory:" or not Path(database).expanduser().is_file():
        raise ValueError(f"There is no SQLite database file at {database!r}.")
    target = target.expanduser().resolve()
    if target.exists():
        raise ValueError(f"{target} exists already; choose a new file.")
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    source = sqlite3.connect(f"file:{Path(database).expanduser()}?mode=ro", uri=True)
    try:
        destination = sqlite3.connect(partial)
        try:
            source.backup(destination, pages=-1, progress=progress)
        finally:
            destination.close()
    finally:
        source.close()
    partial.rename(target)
    return target


def pg_dump_command(url: str, path: str) -> str:
    # Without the password: it belongs in PGPASSWORD or ~/.pgpass, not in shell history.
    parsed = make_url(url).set(drivername="postgresql")
    plain = parsed._replace(password=None).render_as_string(hide_password=False)
    return (
        "PostgreSQL is backed up with its own tools; run (the password from PGPASSWORD or "
        "~/.pgpass):\n"
        f"  pg_dump --format=custom --file={shlex.quote(path)} {shlex.quote(plain)}\n"
        "and restore into an empty database with\n"
        f"  pg_restore --no-owner --dbname=<url of the empty database> {shlex.quote(path)}"
    )
