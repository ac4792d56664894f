"""``prefect-server limits``: concurrency limits from the command line, straight to the
database the server uses (as ``prefect-server database`` does), for the first tenant."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar

import typer

from prefect_server.orchestration.errors import APIError

T = TypeVar("T")

limits_app = typer.Typer(
    help="Concurrency limits: task runs by tag, flow runs by label.",
    invoke_without_command=True,
)
DatabaseUrl = Annotated[
    str | None, typer.Option("--database-url", help="SQLAlchemy URL of the database.")
]


def _run(database_url: str | None, work: Callable[[Any, Any], Awaitable[T]]) -> T:
    """Run ``work(session, tenant_id)`` in one transaction on the configured database."""
    from prefect_server.cli import _settings
    from prefect_server.database.engine import Database
    from prefect_server.orchestration.tenants import ensure_default_tenant

    async def main() -> T:
        db = Database.from_settings(_settings(database_url))
        try:
            async with db.transaction() as session:
                return await work(session, await ensure_default_tenant(session))
        finally:
            await db.dispose()

    try:
        return asyncio.run(main())
    except APIError as exc:
        typer.echo(f"Error: {exc}", err=True)
        raise typer.Exit(1) from None


@limits_app.callback()
def list_limits(ctx: typer.Context, database_url: DatabaseUrl = None) -> None:
    """List the limits with the runs using them now."""
    if ctx.invoked_subcommand is not None:
        return
    from prefect_server.orchestration import concurrency_limits as limits

    async def work(session: Any, tenant_id: Any) -> list[Any]:
        found = []
        for kind in limits.KINDS:
            found += await limits.list_limits(session, kind, tenant_id, with_usage=True)
        return found

    rows = _run(database_url, work)
    if not rows:
        typer.echo("No concurrency limits.")
        return
    names = ["task tag" if r.kind == "task" else "flow label" for r in rows]
    width = max(4, *(len(r.name) for r in rows))
    typer.echo(f"{'KIND':<10}  {'NAME':<{width}}  {'IN USE':>6}  {'LIMIT':>5}")
    for name, row in zip(names, rows, strict=True):
        typer.echo(f"{name:<10}  {row.name:<{width}}  {row.usage:>6}  {row.limit:>5}")


def _set(kind: str, name: str, limit: int, database_url: str | None) -> None:
    from prefect_server.orchestration import concurrency_limits as limits

    async def work(session: Any, tenant_id: Any) -> Any:
        return await limits.set_limit(session, kind, tenant_id, name, limit)

    _run(database_url, work)
    runs = "task run" if kind == "task" else "flow run"
    plural = "" if limit == 1 else "s"
    marked = "tagged" if kind == "task" else "labelled"
    typer.echo(f"At most {limit} {runs}{plural} {marked} {name!r} at once.")


# A negative limit must reach the check that explains it, not be taken for an option.
NUMBERS_MAY_BE_NEGATIVE = {"ignore_unknown_options": True}


@limits_app.command("set-task", context_settings=NUMBERS_MAY_BE_NEGATIVE)
def set_task(tag: str, limit: int, database_url: DatabaseUrl = None) -> None:
    """Allow at most LIMIT task runs with TAG in Running at once."""
    _set("task", tag, limit, database_url)


@limits_app.command("set-flow", context_settings=NUMBERS_MAY_BE_NEGATIVE)
def set_flow(label: str, limit: int, database_url: DatabaseUrl = None) -> None:
    """Allow at most LIMIT flow runs with LABEL submitted or running at once."""
    _set("flow", label, limit, database_url)


@limits_app.command("delete")
def delete(
    kind: Annotated[str, typer.Argument(help="task or flow")],
    name: Annotated[str, typer.Argument(help="the tag or label")],
    database_url: DatabaseUrl = None,
) -> None:
    """Delete the limit on a task tag (``delete task TAG``) or flow label (``delete flow LABEL``)."""
    from prefect_server.orchestration import concurrency_limits as limits

    if kind not in limits.KINDS:
        typer.echo(f"Error: unknown kind {kind!r}; use 'task' or 'flow'.", err=True)
        raise typer.Exit(2)

    async def work(session: Any, tenant_id: Any) -> Any:
        return await limits.delete_limit_by_name(session, kind, tenant_id, name)

    _run(database_url, work)
    typer.echo(f"Deleted the limit on {limits.NAME_WORDS[kind]} {name!r}.")
