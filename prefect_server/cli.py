"""The ``prefect-server`` command line."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer

import prefect_server
from prefect_server.cli_limits import limits_app
from prefect_server.settings import Settings, describe, load_settings, unknown_variables

app = typer.Typer(
    help="A Prefect Server 1.x for the Prefect 1 client and UI, in one process.",
    no_args_is_help=True,
    add_completion=False,
    # typer's rich help shows every option's type, "<bool>" included, which reads as if
    # a flag took a value; click's plain help shows flags as flags.
    rich_markup_mode=None,
)
database_app = typer.Typer(
    help="Upgrade, downgrade, reset or back up the database.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
app.add_typer(database_app, name="database")
app.add_typer(limits_app, name="limits")

Yes = Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")]


def _load() -> Settings:
    try:
        return load_settings()
    except ValueError as exc:
        # A wrong environment variable is a user error: say which, no traceback.
        typer.echo(f"Error: {exc}", err=True)
        raise typer.Exit(2) from None


def _settings(database_url: str | None = None) -> Settings:
    settings = _load()
    if database_url:
        settings = settings.replace(
            database=settings.database.__class__(
                **{**settings.database.__dict__, "connection_url": database_url}
            )
        )
    return settings


SERVICES = "scheduler, lazarus, zombie killer and retention"


@app.command()
def start(
    host: Annotated[str | None, typer.Option(help="Address to bind (default 127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on (default 4200).")] = None,
    database_url: Annotated[
        str | None,
        typer.Option(
            "--database-url",
            help="postgresql://user:password@host:5432/db or sqlite:///path "
            "(default: SQLite under ~/.prefect_server).",
        ),
    ] = None,
    no_upgrade: Annotated[
        bool, typer.Option("--no-upgrade", help="Do not migrate the database at start.")
    ] = False,
    no_services: Annotated[
        bool,
        typer.Option("--no-services", help=f"Do not run the background services ({SERVICES})."),
    ] = False,
    no_ui: Annotated[
        bool, typer.Option("--no-ui", help="Do not serve the built-in web UI under /ui.")
    ] = False,
    log_level: Annotated[str | None, typer.Option(help="Log level (default INFO).")] = None,
    workers: Annotated[
        int,
        typer.Option(min=1, help="Server processes sharing the port (PostgreSQL only; default 1)."),
    ] = 1,
    debug: Annotated[
        bool, typer.Option("--debug", help="Show tracebacks when the server cannot start.")
    ] = False,
) -> None:
    """Start the server: API, web UI and services.

    One process with its database (SQLite by default, or PostgreSQL); it checks the
    port and the database first and says what is wrong in one line."""
    import dataclasses

    from prefect_server import startup

    settings = _settings(database_url)
    changes: dict[str, Any] = {}
    if host:
        changes["host"] = host
    if port:
        changes["port"] = port
    if log_level:
        changes["log_level"] = log_level.upper()
    if no_upgrade:
        changes["database"] = dataclasses.replace(settings.database, migrate_on_start=False)
    if no_services:
        changes["services"] = dataclasses.replace(settings.services, enabled=False)
    if no_ui:
        changes["ui"] = dataclasses.replace(settings.ui, enabled=False)
    settings = settings.replace(**changes)
    debug = debug or settings.log_level == "DEBUG"
    try:
        warnings = startup.check(settings, workers)
        startup.migrate(settings)
    except startup.StartupError as exc:
        if debug:
            import traceback

            traceback.print_exc()
        typer.echo(f"Error: {exc}", err=True)
        raise typer.Exit(2) from None
    for warning in [*warnings, *unknown_variables()]:
        typer.echo(f"Warning: {warning}", err=True)
    _serve(settings, workers, startup.banner(settings, prefect_server.__version__))


def _serve(settings: Settings, workers: int, banner: str) -> None:
    import uvicorn

    from prefect_server.app import create_app
    from prefect_server.observability import logs

    logs.configure(settings)
    typer.echo(banner)
    serving: dict[str, Any] = {
        "host": settings.host,
        "port": settings.port,
        "log_level": settings.log_level.lower(),
        "access_log": False,
        "timeout_keep_alive": 30,
        # On SIGTERM uvicorn stops accepting and waits this long for requests in flight.
        "timeout_graceful_shutdown": settings.graceful_shutdown_seconds,
    }
    log_config = logs.uvicorn_log_config(settings)
    if log_config is not None:
        serving["log_config"] = log_config
    from prefect_server.shutdown import exit_zero_on_sigterm

    exit_zero_on_sigterm()
    if workers == 1:
        uvicorn.run(create_app(settings), **serving)
        return
    _prepare_workers(settings)
    uvicorn.run("prefect_server.app:worker_app", factory=True, workers=workers, **serving)


def _prepare_workers(settings: Settings) -> None:
    """Migrate once, then hand the effective settings to the worker processes.

    Every guard of the state rules lives in PostgreSQL (row locks, the double-submission
    check) and every service pass takes an advisory lock, so workers are as safe as
    replicas. SQLite lets one process write at a time: there they would only queue.
    """
    from prefect_server.database import migrations

    if settings.database.migrate_on_start:
        migrations.upgrade(settings.database_url)
    metrics_dir = settings.metrics.multiprocess_dir or _fresh_metrics_dir()
    # Workers cannot start without it (prometheus-client opens its files at import).
    Path(metrics_dir).mkdir(parents=True, exist_ok=True)
    # Workers read their settings from the environment; the command line's go there too.
    os.environ.update(
        {
            # prometheus-client's multiprocess mode, chosen when a worker imports it.
            "PROMETHEUS_MULTIPROC_DIR": metrics_dir,
            "PREFECT_SERVER__METRICS__MULTIPROCESS_DIR": metrics_dir,
            "PREFECT_SERVER__HOST": settings.host,
            "PREFECT_SERVER__PORT": str(settings.port),
            "PREFECT_SERVER__LOG_LEVEL": settings.log_level,
            "PREFECT_SERVER__DATABASE__CONNECTION_URL": settings.database_url,
            "PREFECT_SERVER__DATABASE__MIGRATE_ON_START": "false",
            "PREFECT_SERVER__SERVICES__ENABLED": str(settings.services.enabled).lower(),
            "PREFECT_SERVER__UI__ENABLED": str(settings.ui.enabled).lower(),
        }
    )


def _fresh_metrics_dir() -> str:
    import atexit
    import shutil
    import tempfile

    path = tempfile.mkdtemp(prefix="prefect-server-metrics-")
    atexit.register(shutil.rmtree, path, ignore_errors=True)
    return path


def _print_version(value: bool) -> None:
    if value:
        typer.echo(prefect_server.__version__)
        raise typer.Exit()


@app.callback()
def _options(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            callback=_print_version,
            is_eager=True,
            help="Print the version and exit.",
        ),
    ] = False,
) -> None:
    pass


@app.command()
def config(
    as_json: Annotated[bool, typer.Option("--json", help="The effective values as JSON.")] = False,
) -> None:
    """Show each setting, its value and its source.

    Every setting with its environment variable, its effective value (secrets masked)
    and where the value came from (default or environment)."""
    if as_json:
        typer.echo(json.dumps(_load().masked(), indent=2))
        return
    _load()  # a wrong value is reported as at start
    rows = describe()
    width = max(len(name) for name, _, _ in rows)
    for name, value, source in rows:
        typer.echo(f"{name:<{width}}  {source:<11}  {value}")
    for warning in unknown_variables():
        typer.echo(f"Warning: {warning}", err=True)


@app.command()
def version() -> None:
    """Print the version."""
    typer.echo(prefect_server.__version__)


Debug = Annotated[bool, typer.Option("--debug", help="Print the traceback of a failure.")]


@contextmanager
def _database_command(settings: Settings, debug: bool) -> Iterator[None]:
    """A database that cannot be reached or a migration that fails is one line and exit
    2, as at start; the traceback only with --debug."""
    from prefect_server import startup

    try:
        startup.database_is_reachable(settings)
        yield
    except typer.Exit:
        raise
    except Exception as exc:
        if debug or settings.log_level == "DEBUG":
            import traceback

            traceback.print_exc()
        message = str(exc) if isinstance(exc, startup.StartupError) else startup.first_line(exc)
        if "Can't locate revision" in message:
            message += (
                f" - the database was migrated by another prefect-server than this one "
                f"({prefect_server.__version__}); run that version's database commands."
            )
        typer.echo(f"Error: {message}", err=True)
        raise typer.Exit(2) from None


def _confirm(yes: bool, question: str) -> None:
    if not yes and not typer.confirm(question):
        raise typer.Abort()


@database_app.command("upgrade")
def database_upgrade(
    yes: Yes = False,
    revision: Annotated[str, typer.Option("--revision", "-n")] = "head",
    database_url: Annotated[str | None, typer.Option("--database-url")] = None,
    debug: Debug = False,
) -> None:
    """Apply all migrations (to the latest revision)."""
    from prefect_server.database import migrations
    from prefect_server.settings import mask_url

    settings = _settings(database_url)
    _confirm(yes, f"Upgrade the database at {mask_url(settings.database_url)}?")
    with _database_command(settings, debug):
        migrations.upgrade(settings.database_url, revision)
    typer.echo("Database upgraded.")


@database_app.command("downgrade")
def database_downgrade(
    yes: Yes = False,
    revision: Annotated[str, typer.Option("--revision", "-n")] = "base",
    database_url: Annotated[str | None, typer.Option("--database-url")] = None,
    debug: Debug = False,
) -> None:
    """Revert migrations (to an empty database by default)."""
    from prefect_server.database import migrations
    from prefect_server.settings import mask_url

    settings = _settings(database_url)
    _confirm(
        yes, f"Downgrade the database at {mask_url(settings.database_url)}? Data will be lost."
    )
    with _database_command(settings, debug):
        migrations.downgrade(settings.database_url, revision)
    typer.echo("Database downgraded.")


@database_app.command("reset")
def database_reset(
    yes: Yes = False,
    database_url: Annotated[str | None, typer.Option("--database-url")] = None,
    debug: Debug = False,
) -> None:
    """Drop everything and migrate again from empty."""
    from prefect_server.database import migrations
    from prefect_server.settings import mask_url

    settings = _settings(database_url)
    _confirm(
        yes, f"Reset the database at {mask_url(settings.database_url)}? All data will be lost."
    )
    with _database_command(settings, debug):
        migrations.reset(settings.database_url)
    typer.echo("Database reset.")


@database_app.command("backup")
def database_backup(
    path: Annotated[str, typer.Argument(help="File to write the copy to.")],
    database_url: Annotated[str | None, typer.Option("--database-url")] = None,
) -> None:
    """Copy the database while the server runs.

    SQLite: an online copy to PATH; PostgreSQL: prints the pg_dump command to use."""
    from prefect_server.database import backup

    settings = _settings(database_url)
    try:
        typer.echo(backup.backup(settings.database_url, path))
    except ValueError as exc:
        typer.echo(f"Error: {exc}", err=True)
        raise typer.Exit(2) from None


def main() -> None:
    app()


if __name__ == "__main__":
    main()
