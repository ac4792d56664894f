"""The one object that knows which database we are talking to.

Everything else in the project is written once for both databases and asks its
``Dialect`` for the few constructs that differ: engine set-up, the write discipline,
upserts, row and advisory locks, text and JSON operators, aggregates. A ``Database``
chooses its dialect once, when it is opened; code that holds only a session or a
connection reaches the same object with ``dialect_of``.
"""

from __future__ import annotations

import abc
import asyncio
import dataclasses
from collections.abc import Callable, Mapping
from contextlib import AbstractAsyncContextManager
from typing import Any, ClassVar, TypeVar

from sqlalchemy import ColumnElement, Select, String, and_, false, or_, true, type_coerce
from sqlalchemy.engine import Dialect as SADialect
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession


@dataclasses.dataclass(frozen=True)
class EngineOptions:
    """What a Database asks of its engine; each dialect uses the ones that apply."""

    json_serializer: Callable[[Any], str]
    echo: bool = False
    pool_size: int = 10
    busy_timeout: float = 30.0  # SQLite: how long a writer waits for the file's lock
    connect_timeout: float = 5.0  # PostgreSQL
    pool_timeout: float = 10.0  # PostgreSQL
    statement_timeout: float = 60.0  # PostgreSQL


# What domain functions take: an ORM session, or a Core connection where no ORM is
# needed (the task-run hot path, Database.core_transaction).
Executor = AsyncSession | AsyncConnection

_Select = TypeVar("_Select", bound=Select)  # type: ignore[type-arg]
_Built = TypeVar("_Built")

# Where an engine's SQLAlchemy dialect carries ours (read as a plain attribute in
# dialect_of): the cheapest way from a session or connection to its Dialect on the hot
# paths.
_ATTRIBUTE = "prefect_server_dialect"

# The escape character of Hasura's LIKE patterns, on both databases.
LIKE_ESCAPE = "\\"


async def connection(session: Executor) -> AsyncConnection:
    """The Core connection of ``session`` (itself, when it is one)."""
    if isinstance(session, AsyncConnection):
        return session
    return await session.connection()


def backend_name(url: str) -> str:
    """Which database a URL names (``postgresql``, ``sqlite``…), driver aside."""
    return make_url(url).get_backend_name()


def for_url(url: str) -> Dialect:
    """A new Dialect for the database ``url`` names."""
    return _for_backend(backend_name(url))


def _for_backend(name: str) -> Dialect:
    from prefect_server.database.dialects import postgres, sqlite

    for cls in (postgres.PostgresDialect, sqlite.SqliteDialect):
        if cls.name == name:
            return cls()
    raise ValueError(f"Databases of kind {name!r} are not supported (PostgreSQL or SQLite).")


def dialect_of(executor: Executor | AsyncEngine) -> Dialect:
    """The Dialect of the engine behind ``executor``."""
    if isinstance(executor, AsyncSession):
        sa_dialect = executor.get_bind().dialect
    else:
        sa_dialect = executor.dialect
    try:
        return sa_dialect.prefect_server_dialect  # type: ignore[attr-defined,no-any-return]
    except AttributeError:
        # An engine made outside Database (migrations, tests): adopt one once.
        return _for_backend(sa_dialect.name).attach(sa_dialect)


class Dialect(abc.ABC):
    """What differs between PostgreSQL and SQLite; one instance per Database.

    The instance also keeps the statements that hot paths build once and reuse
    (``statements``): they are compiled for one database, so they belong to it.
    """

    name: ClassVar[str]
    # SQLite: one writer at a time in this process (see Database.transaction).
    serialises_writers: ClassVar[bool] = False
    # Execution options of a write transaction's connection.
    write_options: ClassVar[Mapping[str, Any]] = {}

    def __init__(self) -> None:
        self._statements: dict[Callable[[Any], Any], Any] = {}

    def attach(self, sa_dialect: SADialect) -> Dialect:
        setattr(sa_dialect, _ATTRIBUTE, self)
        return self

    def statements(self, build: Callable[[Dialect], _Built]) -> _Built:
        """``build(self)``, built on the first call and kept for this database."""
        built = self._statements.get(build)
        if built is None:
            built = self._statements[build] = build(self)
        return built  # type: ignore[no-any-return]

    def write_lock(self) -> asyncio.Lock | None:
        return asyncio.Lock() if self.serialises_writers else None

    # --- the engine ---

    @abc.abstractmethod
    def create_engine(
        self,
        url: str,
        options: EngineOptions,
    ) -> AsyncEngine:
        """The engine for ``url``, configured for this database and attached to self."""

    def prepare(self, url: str) -> None:  # noqa: B027 - nothing to do for most databases
        """Whatever must exist before the first connection to ``url``."""

    @abc.abstractmethod
    def advisory_lock(self, engine: AsyncEngine, key: int) -> AbstractAsyncContextManager[bool]:
        """Try to hold a database-wide lock named by ``key`` for the block; yield whether
        we got it."""

    @abc.abstractmethod
    async def transaction_lock(self, connection: AsyncConnection, key: int) -> None:
        """Wait until the current transaction holds a database-wide lock named by ``key``."""

    # --- statements ---

    @abc.abstractmethod
    def insert(self, table: Any) -> Any:
        """An INSERT that supports ``on_conflict_do_nothing``/``on_conflict_do_update``."""

    @abc.abstractmethod
    def for_update(self, stmt: _Select) -> _Select:
        """Lock the selected rows until commit."""

    @abc.abstractmethod
    def insert_then_update(self, insert_stmt: Any, update_stmt: Any) -> list[Any]:
        """An INSERT and an UPDATE of another table, as few statements as the database
        allows. The insert must give every column a value (no Python-side defaults)."""

    # --- text and JSON operators (Hasura's comparisons) ---

    @abc.abstractmethod
    def text_like(
        self, column: Any, pattern: str, *, insensitive: bool = False
    ) -> ColumnElement[bool]:
        """``column LIKE pattern`` (or ILIKE) with PostgreSQL's case rules and ``\\`` escapes."""

    @abc.abstractmethod
    def text_similar(self, column: Any, pattern: str) -> ColumnElement[bool]: ...

    @abc.abstractmethod
    def json_contains(self, column: Any, value: Any) -> ColumnElement[bool]:
        """jsonb ``@>``."""

    @abc.abstractmethod
    def json_contained_in(self, column: Any, value: Any) -> ColumnElement[bool]:
        """jsonb ``<@``."""

    @abc.abstractmethod
    def json_equals(self, column: Any, value: Any) -> ColumnElement[bool]: ...

    @abc.abstractmethod
    def json_has_key(self, column: Any, key: str) -> ColumnElement[bool]:
        """jsonb ``?``: a top-level object key, or a string element of a top-level array."""

    def json_has_keys(self, column: Any, keys: list[str], *, every: bool) -> ColumnElement[bool]:
        """jsonb ``?&`` (every) or ``?|`` (any)."""
        tests = [self.json_has_key(column, key) for key in keys]
        return and_(true(), *tests) if every else or_(false(), *tests)

    def json_array_has(self, column: Any, value: Any) -> ColumnElement[bool]:
        """``column``, a JSON array, has the string ``value`` (a bound parameter or a
        string) as an element."""
        # Text, not the column's JSON type: the driver must not encode the name as JSON.
        return self._json_array_has(column, type_coerce(value, String()))

    @abc.abstractmethod
    def _json_array_has(self, column: Any, value: Any) -> ColumnElement[bool]: ...

    @abc.abstractmethod
    def json_flag_is_false(self, column: Any, key: str) -> ColumnElement[bool]:
        """``column`` (a JSON object) holds ``key: false`` — the boolean, not a string or
        null. Server 1 asked Hasura for ``settings _contains {key: false}``."""

    # --- aggregates ---

    @abc.abstractmethod
    def variance(self, column: Any, *, sample: bool) -> ColumnElement[Any]:
        """var_samp / var_pop."""

    @abc.abstractmethod
    def stddev(self, column: Any, *, sample: bool) -> ColumnElement[Any]:
        """stddev_samp / stddev_pop."""

    @abc.abstractmethod
    def row_value(self, columns: list[Any]) -> Any:
        """A single value standing for several columns (``count(distinct (a, b))``)."""
