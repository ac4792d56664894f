"""What ``prefect-server start`` checks before it starts anything, and the banner it
prints once it can.

Each check fails with a :class:`StartupError`: one sentence with the offending value
and what to do. They run before the app exists, so a failure leaves nothing started
and nothing written (uvicorn binds its port only after the lifespan has migrated the
database and started the services; a port in use was found out last, under hundreds
of lines of tracebacks from the cancelled services). Then :func:`migrate` upgrades the
schema, still before the app exists, so a failed migration is one line too.
"""

from __future__ import annotations

import asyncio
import errno
import re
import socket
from pathlib import Path

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

import prefect_server
from prefect_server.settings import Settings, mask_url

SUPPORTED = "PostgreSQL (postgresql://user:password@host:5432/database) or SQLite (sqlite:///path/to/file.db)"


class StartupError(Exception):
    """A reason not to start, said in one sentence."""


def _hide_password(text: str) -> str:
    # A URL that does not parse cannot be masked by SQLAlchemy; hide user:password@.
    return re.sub(r"([^:/@\s]*:)[^:/@\s]*@", r"\1********@", text)


def database_url(settings: Settings) -> URL:
    """The database URL, parsed, of a kind we support."""
    raw = settings.database_url
    try:
        url = make_url(raw)
    except ArgumentError:
        raise StartupError(
            f"The database URL {_hide_password(settings.database.connection_url)!r} is not a "
            f"URL; use {SUPPORTED}."
        ) from None
    backend = url.get_backend_name()
    if backend not in ("postgresql", "sqlite"):
        raise StartupError(
            f"The database {backend!r} ({mask_url(raw)}) is not supported; use {SUPPORTED}."
        )
    return url


def refuse_workers_on_sqlite(settings: Settings, workers: int) -> None:
    if workers > 1 and database_url(settings).get_backend_name() != "postgresql":
        raise StartupError(
            f"--workers {workers} needs PostgreSQL (SQLite lets one process write at a "
            "time); set --database-url postgresql://… or leave --workers out."
        )


def port_is_free(host: str, port: int) -> None:
    if port == 0:
        return
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise StartupError(
            f"Cannot listen on host {host!r}: {exc.strerror}; use an address of this machine "
            "with --host (127.0.0.1, or 0.0.0.0 for every interface)."
        ) from None
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        # The same option uvicorn sets: a port in TIME_WAIT from a server just stopped
        # is free to it, so it must be free here too.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise StartupError(
                    f"Port {port} on {host} is already in use (another prefect-server?); stop "
                    "what uses it or choose another port with --port."
                ) from None
            raise StartupError(
                f"Cannot listen on {host}:{port}: {exc.strerror}; choose another --host or --port."
            ) from None


def database_is_reachable(settings: Settings) -> None:
    """The SQLite file's directory exists (created if need be); PostgreSQL answers and
    the database exists."""
    url = database_url(settings)
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:":
            directory = Path(url.database).expanduser().parent
            try:
                directory.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StartupError(
                    f"Cannot create the directory {str(directory)!r} for the SQLite database: "
                    f"{exc.strerror}; set PREFECT_SERVER__HOME or --database-url "
                    "sqlite:///… to a writable place."
                ) from None
        return
    asyncio.run(_connect(settings, url))


async def _connect(settings: Settings, url: URL) -> None:
    from sqlalchemy.ext.asyncio import create_async_engine
    from sqlalchemy.pool import NullPool

    where = f"{url.host or 'localhost'}:{url.port or 5432}"
    engine = create_async_engine(
        url,
        poolclass=NullPool,
        connect_args={"timeout": settings.database.connect_timeout_seconds},
    )
    try:
        async with engine.connect():
            pass
    except Exception as exc:
        cause = getattr(exc, "orig", None) or exc
        cause = cause.__cause__ or cause
        name = type(cause).__name__
        if name == "InvalidCatalogNameError":
            raise StartupError(
                f"The PostgreSQL database {url.database!r} does not exist on {where}; create it "
                f"with: psql -h {url.host or 'localhost'} -U {url.username or 'postgres'} "
                f'-c "CREATE DATABASE {url.database}"'
            ) from None
        if name in ("InvalidPasswordError", "InvalidAuthorizationSpecificationError"):
            raise StartupError(
                f"PostgreSQL on {where} refused user {url.username!r}: {cause}; check the user "
                "and password in the database URL."
            ) from None
        reason = str(cause).strip().splitlines()[0] if str(cause).strip() else name
        raise StartupError(
            f"Cannot connect to PostgreSQL on {where} ({mask_url(str(url))}): {reason}; check "
            "that it is running and reachable, and the database URL."
        ) from None
    finally:
        await engine.dispose()


def first_line(exc: BaseException) -> str:
    cause = getattr(exc, "orig", None) or exc
    text = str(cause).strip()
    return text.splitlines()[0] if text else type(cause).__name__


def _missing_sqlite_file(url: URL) -> bool:
    # Connecting would create the file; a missing file has no schema.
    name = url.database
    if url.get_backend_name() != "sqlite" or not name or name == ":memory:":
        return False
    return not name.startswith("file:") and not Path(name).expanduser().exists()


async def _schema_revisions(url: URL) -> set[str] | None:
    """The revisions the database is stamped with; None when it has no schema."""
    from sqlalchemy import inspect, text
    from sqlalchemy.ext.asyncio import create_async_engine
    from sqlalchemy.pool import NullPool

    engine = create_async_engine(url, poolclass=NullPool)
    try:
        async with engine.connect() as connection:
            has_table = await connection.run_sync(
                lambda sync: inspect(sync).has_table("alembic_version")
            )
            if not has_table:
                return None
            rows = await connection.execute(text("SELECT version_num FROM alembic_version"))
            return {row[0] for row in rows} or None
    finally:
        await engine.dispose()


def _known_revisions(settings: Settings) -> tuple[set[str], set[str]]:
    """This code's migration heads, and every revision it knows."""
    from alembic.script import ScriptDirectory

    from prefect_server.database.migrations import alembic_config

    scripts = ScriptDirectory.from_config(alembic_config(settings.database_url))
    return set(scripts.get_heads()), {script.revision for script in scripts.walk_revisions()}


def schema_fits(settings: Settings) -> str | None:
    """The database's schema is one this version can migrate, or, with --no-upgrade, serve;
    a warning when it serves it unready. Reads only.

    With --no-upgrade a schema behind this code is served and ``/ready`` answers 503 until
    it is upgraded: a new replica starts before the migration job of its rollout has
    finished. A revision we do not know was written by a newer prefect-server: migrating
    from it is impossible, serving it with --no-upgrade is an old replica during a rolling
    update (``/ready`` answers ready: migrations add before they remove).
    """
    url = database_url(settings)
    try:
        current = None if _missing_sqlite_file(url) else asyncio.run(_schema_revisions(url))
    except Exception as exc:
        raise StartupError(
            f"Cannot read the schema of the database {mask_url(str(url))}: {first_line(exc)}; "
            "check the database URL."
        ) from exc
    heads, known = _known_revisions(settings)
    unknown = sorted((current or set()) - known)
    if settings.database.migrate_on_start:
        if unknown:
            raise StartupError(
                f"The database is at revision {', '.join(unknown)}, which prefect-server "
                f"{prefect_server.__version__} does not know (a newer prefect-server migrated "
                "it); run that newer version, or start this one with --no-upgrade to serve "
                "the schema as it is."
            )
        return None
    if current is None:
        raise StartupError(
            "The database has no schema and --no-upgrade was given; run "
            "`prefect-server database upgrade` with the same database settings first, or "
            "start without --no-upgrade."
        )
    if unknown or current == heads:
        return None
    return (
        f"The database schema is at revision {', '.join(sorted(current))}, behind this "
        f"version's {', '.join(sorted(heads))}; /ready answers 503 until "
        "`prefect-server database upgrade` has run."
    )


def migrate(settings: Settings) -> None:
    """Upgrade the schema before anything serves, so a failed migration is one line and
    leaves no server behind (the app's own upgrade at start then finds nothing to do)."""
    if not settings.database.migrate_on_start:
        return
    from prefect_server.database import migrations

    try:
        migrations.upgrade(settings.database_url)
    except Exception as exc:
        raise StartupError(
            f"Migrating the database failed: {first_line(exc)}; `prefect-server start "
            "--debug` shows the traceback."
        ) from exc


def check(settings: Settings, workers: int) -> list[str]:
    """Every check, cheapest first; the SQLite directory is the only thing written,
    and only once everything else has passed. Returns warnings to show."""
    refuse_workers_on_sqlite(settings, workers)
    database_url(settings)
    port_is_free(settings.host, settings.port)
    database_is_reachable(settings)
    return [warning for warning in (schema_fits(settings),) if warning]


def banner(settings: Settings, version: str) -> str:
    """What a person needs next: where to look, where the data is, how to point the
    client here."""
    host = "127.0.0.1" if settings.host in ("0.0.0.0", "::", "") else settings.host
    address = f"http://{host}:{settings.port}"
    url = database_url(settings)
    if url.get_backend_name() == "sqlite":
        database = f"SQLite {url.database}"
    else:
        database = f"PostgreSQL {url.host or 'localhost'}:{url.port or 5432}/{url.database}"
    lines = [f"prefect-server {version}"]
    if settings.ui.enabled:
        lines.append(f"  Web UI    {address}/ui/")
    lines += [
        f"  API       {address}/graphql",
        f"  Database  {database}",
        "  Tenant    default",
        "Point the Prefect 1.4.1 client here:",
        "  export PREFECT__BACKEND=server",
        f"  export PREFECT__SERVER__ENDPOINT={address}",
    ]
    if settings.api_keys:
        lines.append("  export PREFECT__CLOUD__API_KEY=<one of PREFECT_SERVER__API_KEYS>")
    return "\n".join(lines)
