"""One typed settings object, read once from the environment and passed down.

Environment variables follow Server 1's scheme: ``PREFECT_SERVER__<SECTION>__<KEY>``,
for example ``PREFECT_SERVER__DATABASE__CONNECTION_URL`` or
``PREFECT_SERVER__SERVICES__SCHEDULER__LOOP_SECONDS``. A field's metadata may carry
``doc`` (one sentence for the settings table) and ``aliases`` (older variable names
still read, after the canonical one). This is the only module that reads the
environment.
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import os
import re
import types
import typing
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PREFIX = "PREFECT_SERVER"


def _setting(default: Any, doc: str, *, aliases: tuple[str, ...] = ()) -> Any:
    """A field with its documentation and the older variable names it also answers to."""
    return field(default=default, metadata={"doc": doc, "aliases": aliases})


@dataclass(frozen=True)
class DatabaseSettings:
    # Empty means "a SQLite file under home"; resolved by Settings.database_url.
    connection_url: str = _setting(
        "",
        "Any SQLAlchemy URL; `postgresql://` and `sqlite:///` map to the async drivers. Empty: a SQLite file `prefect_server.db` in home.",
    )
    migrate_on_start: bool = _setting(
        True,
        "`prefect-server start` upgrades the schema first (`--no-upgrade` turns it off; replicas should).",
    )
    echo: bool = _setting(False, "Log every SQL statement (SQLAlchemy's `echo`), for debugging.")
    pool_size: int = _setting(
        10, "Connections in each process's pool, plus twice as many overflow connections."
    )
    sqlite_busy_timeout_seconds: float = _setting(
        30.0, "How long a SQLite writer waits for the file's write lock before failing."
    )
    # During a PostgreSQL outage requests fail within these bounds instead of hanging
    # (asyncpg waits 60 s for a connection and SQLAlchemy 30 s for a pooled one).
    connect_timeout_seconds: float = _setting(
        5.0,
        "How long opening a connection may take; during a PostgreSQL outage requests fail after it instead of hanging.",
    )
    pool_timeout_seconds: float = _setting(
        10.0, "How long a request waits for a pooled connection before failing."
    )
    # A server that stops answering without closing its connections (a failover's old
    # primary gone silent) would otherwise hold a statement until TCP gives up.
    statement_timeout_seconds: float = _setting(
        60.0,
        "How long one PostgreSQL statement may wait for its answer before it fails (no answer at all: a failover's silent old primary); 0 waits without end. Deleting a project or flow deletes its whole history in one statement: about 3.4 s per 10,000 runs of 20 task runs.",
    )


@dataclass(frozen=True)
class SchedulerSettings:
    enabled: bool = _setting(
        True, "Run the scheduler, which creates the runs of flows with an active schedule."
    )
    loop_seconds: float = _setting(150.0, "Seconds between scheduler passes.")
    max_scheduled_runs_per_flow: int = _setting(
        10, "How many future runs the scheduler keeps per scheduled flow."
    )


@dataclass(frozen=True)
class LazarusSettings:
    enabled: bool = _setting(
        True, "Run lazarus, which reschedules flow runs whose process stopped heartbeating."
    )
    loop_seconds: float = _setting(600.0, "Seconds between lazarus passes.")
    heartbeat_timeout_seconds: float = _setting(
        600.0, "A flow run without a heartbeat for this long is taken for dead."
    )
    resurrection_attempt_limit: int = _setting(
        3, "After this many resurrections a flow run is failed instead of rescheduled."
    )


@dataclass(frozen=True)
class ZombieKillerSettings:
    enabled: bool = _setting(
        True, "Run the zombie killer, which fails Running task runs that stopped heartbeating."
    )
    loop_seconds: float = _setting(120.0, "Seconds between zombie-killer passes.")
    heartbeat_timeout_seconds: float = _setting(
        600.0, "A Running task run without a heartbeat for this long is failed."
    )


@dataclass(frozen=True)
class RetentionSettings:
    enabled: bool = _setting(
        True, "Run the retention service (it deletes nothing while both periods are 0)."
    )
    loop_seconds: float = _setting(3600.0, "Seconds between retention passes.")
    # 0 keeps forever, the default: Server 1 never deleted history and its users expect
    # theirs to stay until they choose a period.
    flow_run_days: int = _setting(
        0,
        "Delete flow runs that finished more than this many days ago, with their task runs, states, logs and artifacts; 0 keeps them.",
    )
    log_days: int = _setting(
        0, "Delete logs older than this many days, also of runs that are kept; 0 keeps them."
    )


@dataclass(frozen=True)
class ServicesSettings:
    enabled: bool = _setting(
        True,
        "Run the services (scheduler, lazarus, zombie killer, retention) in this process (`--no-services` turns them off).",
    )
    scheduler: SchedulerSettings = field(default_factory=SchedulerSettings)
    lazarus: LazarusSettings = field(default_factory=LazarusSettings)
    zombie_killer: ZombieKillerSettings = field(default_factory=ZombieKillerSettings)
    retention: RetentionSettings = field(default_factory=RetentionSettings)


@dataclass(frozen=True)
class HooksSettings:
    timeout_seconds: float = _setting(
        2.0, "Timeout of one cloud-hook (notification) HTTP delivery."
    )
    # Base URLs of the notification services; tests point them at a local receiver.
    slack_base_url: str = _setting(
        "",
        "Replaces the scheme and host of Slack webhook URLs (a proxy); empty: the webhook's own.",
    )
    twilio_base_url: str = _setting(
        "https://api.twilio.com", "Base URL of Twilio's API, for SMS hooks."
    )
    pagerduty_base_url: str = _setting(
        "https://events.pagerduty.com", "Base URL of PagerDuty's Events API, for PagerDuty hooks."
    )


@dataclass(frozen=True)
class UISettings:
    # The built-in web UI under /ui (prefect-server start --no-ui turns it off).
    enabled: bool = _setting(
        True, "Serve the built-in web UI under `/ui/` (`--no-ui` turns it off)."
    )
    url: str = _setting(
        "", "Public address of the built-in UI, for links in notifications; empty: API_URL + `/ui`."
    )
    session_hours: float = _setting(
        24.0 * 7, "How long a key login to the UI lasts (only with API keys)."
    )


@dataclass(frozen=True)
class MetricsSettings:
    enabled: bool = _setting(True, "Serve Prometheus metrics at `/metrics`.")
    public: bool = _setting(
        False,
        "Serve `/metrics` without an API key even when keys are set (a scraper in the cluster).",
    )
    state_counts_cache_seconds: float = _setting(
        5.0, "Runs per state are counted at most this often, however often Prometheus scrapes."
    )
    max_operation_names: int = _setting(
        100, "Distinct `operation` labels kept per process; later names count as `other`."
    )
    multiprocess_dir: str = _setting(
        "",
        "Where the workers of `start --workers N` share their metric files; empty: a fresh temporary directory per start.",
    )


@dataclass(frozen=True)
class LoggingSettings:
    format: str = _setting(
        "text", "`text` (human-readable) or `json` (one object per line, for log collectors)."
    )


@dataclass(frozen=True)
class ApiInfoSettings:
    """What the ``api`` query reports; the original UI shows it in its side bar. The
    aliases are the unprefixed variables Server 1 read for these values."""

    version: str = _setting(
        "",
        "The server version the api query reports; empty: this package's version.",
        aliases=("PREFECT_SERVER_VERSION",),
    )
    # Server 1 reported the Prefect Core it was built with; ours speaks 1.4.1's wire format.
    core_version: str = _setting(
        "1.4.1",
        "The Prefect Core version the api query reports.",
        aliases=("PREFECT_CORE_VERSION",),
    )
    release_timestamp: str = _setting(
        "",
        "The release timestamp the api query reports; empty: null.",
        aliases=("RELEASE_TIMESTAMP",),
    )


@dataclass(frozen=True)
class Settings:
    host: str = _setting(
        "127.0.0.1", "Address the API and the UI listen on (`0.0.0.0`: every interface)."
    )
    port: int = _setting(4200, "Port the API and the UI listen on.")
    home: str = _setting("~/.prefect_server", "Directory of the default SQLite database.")
    # Public URL of the API, used in links inside cloud-hook notifications.
    api_url: str = _setting(
        "http://localhost:4200",
        "Public address of the API, as people reach it; notification links are built from it.",
    )
    api_keys: tuple[str, ...] = _setting(
        (),
        "Comma-separated API keys; when set, every request needs `Authorization: Bearer <key>` and the UI asks for a key.",
    )
    log_level: str = _setting(
        "INFO", "Level of the server's log (`DEBUG` also shows the traceback of a start-up error)."
    )
    core_version_cutoff: str = _setting(
        "0.6.1",
        "Flows built with an older Prefect (their `__version__`) are refused at registration.",
    )
    queued_runs_returned_limit: int = _setting(
        25, "At most this many flow runs are offered to an agent per poll (`get_runs_in_queue`)."
    )
    insert_many_batch_size: int = _setting(
        200, "Rows per INSERT statement when a flow's tasks and edges are registered."
    )
    artifacts_max_payload_bytes: int = _setting(
        1_000_000, "Largest artifact payload accepted, in bytes of JSON."
    )
    state_max_payload_bytes: int = _setting(
        1_000_000, "Largest state accepted by a state write, in bytes of JSON."
    )
    max_request_body_bytes: int = _setting(
        5 * 1024 * 1024, "Largest HTTP request body accepted; a larger one is answered 413."
    )
    query_depth_limit: int = _setting(
        7, "Deepest nesting of selections a GraphQL document may have."
    )
    graphql_plans: bool = _setting(
        True,
        "Run the 1.4.1 client's hottest documents through execution plans (same answers, a third of the CPU); `false`: the general executor for all.",
    )
    database: DatabaseSettings = field(default_factory=DatabaseSettings)
    services: ServicesSettings = field(default_factory=ServicesSettings)
    hooks: HooksSettings = field(default_factory=HooksSettings)
    ui: UISettings = field(default_factory=UISettings)
    metrics: MetricsSettings = field(default_factory=MetricsSettings)
    logging: LoggingSettings = field(default_factory=LoggingSettings)
    api_info: ApiInfoSettings = field(default_factory=ApiInfoSettings)
    # On SIGTERM: how long requests in flight may take to finish (then the services'
    # passes and pending cloud hooks get a bounded moment of their own).
    graceful_shutdown_seconds: float = _setting(
        30.0, "On SIGTERM, how long requests in flight may take to finish."
    )

    @property
    def ui_base_url(self) -> str:
        """Where a person opens the built-in UI (links in notifications point here)."""
        return (self.ui.url or f"{self.api_url.rstrip('/')}/ui").rstrip("/")

    @property
    def run_page_link(self) -> str:
        """The address of a flow run's page, as notifications link to it, with
        ``{tenant_slug}`` and ``{flow_run_id}`` to fill in: the built-in UI's page, or
        with the UI off, the path the original Prefect UI serves at ``API_URL``."""
        if self.ui.enabled:
            return self.ui_base_url + "/flow-runs/{flow_run_id}"
        return self.api_url.rstrip("/") + "/{tenant_slug}/flow-run/{flow_run_id}"

    @property
    def home_path(self) -> Path:
        return Path(self.home).expanduser()

    @property
    def database_url(self) -> str:
        """The SQLAlchemy async URL of the database."""
        url = self.database.connection_url or f"sqlite:///{self.home_path / 'prefect_server.db'}"
        return to_async_url(url)

    def replace(self, **changes: Any) -> Settings:
        return dataclasses.replace(self, **changes)

    def masked(self) -> dict[str, Any]:
        """The effective settings as a dict, with secrets masked."""
        data = dataclasses.asdict(self)
        data["api_keys"] = ["********" for _ in self.api_keys]
        data["database"]["connection_url"] = mask_url(self.database_url)
        return data


# Database.from_settings puts the settings in every session's ``info`` under this key.
SESSION_KEY = "settings"


def session_settings(session: Any) -> Settings:
    """The settings a database session was opened with.

    Domain functions deep inside a transaction (flow registration, cloud hooks fired
    by a state write) read them here instead of through every caller's signature. A
    session without them is a wiring mistake, never a reason to use the defaults.
    """
    settings = session.info.get(SESSION_KEY)
    if not isinstance(settings, Settings):
        raise RuntimeError(
            "This database session carries no settings: open the database with "
            "Database.from_settings()."
        )
    return settings


def to_async_url(url: str) -> str:
    """Map plain ``postgresql://`` and ``sqlite://`` URLs to their async drivers."""
    for plain, driver in (
        ("postgresql://", "postgresql+asyncpg://"),
        ("postgres://", "postgresql+asyncpg://"),
        ("postgresql+psycopg2://", "postgresql+asyncpg://"),
        ("sqlite://", "sqlite+aiosqlite://"),
    ):
        if url.startswith(plain):
            return driver + url[len(plain) :]
    return url


def mask_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "********"


def _convert(raw: str, annotation: Any, name: str) -> Any:
    origin = typing.get_origin(annotation)
    if annotation is bool:
        lowered = raw.strip().lower()
        if lowered in ("1", "true", "yes", "on"):
            return True
        if lowered in ("0", "false", "no", "off", ""):
            return False
        raise ValueError(f"{name}: expected true or false, got {raw!r}")
    if annotation is int:
        return int(raw)
    if annotation is float:
        return float(raw)
    if origin is tuple:
        text = raw.strip()
        if text.startswith("["):
            items = json.loads(text)
        else:
            items = [part.strip() for part in text.split(",")]
        return tuple(str(item) for item in items if str(item))
    return raw


def _load(cls: type, env: Mapping[str, str], prefix: str) -> Any:
    hints = typing.get_type_hints(cls)
    values: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        annotation = hints[f.name]
        name = f"{prefix}__{f.name.upper()}"
        if isinstance(annotation, type) and dataclasses.is_dataclass(annotation):
            values[f.name] = _load(annotation, env, name)
            continue
        given = next((n for n in (name, *f.metadata.get("aliases", ())) if n in env), None)
        if given is not None:
            if isinstance(annotation, types.UnionType):
                annotation = next(a for a in typing.get_args(annotation) if a is not type(None))
            try:
                values[f.name] = _convert(env[given], annotation, given)
            except ValueError as exc:
                raise ValueError(f"Invalid setting {given}={env[given]!r}: {exc}") from exc
    return cls(**values)


# A variable with our prefix that is not a setting but is read on purpose: the database
# the test suite (and the pytest plugin's fixture) runs on.
TEST_DATABASE_URL = "PREFECT_SERVER_TEST_DATABASE_URL"
NOT_SETTINGS = frozenset({TEST_DATABASE_URL})


def suite_database_url(env: Mapping[str, str] | None = None) -> str | None:
    """The database a test suite asks for in ``PREFECT_SERVER_TEST_DATABASE_URL``, if any."""
    return (os.environ if env is None else env).get(TEST_DATABASE_URL) or None


def _fields(cls: type, prefix: str) -> Iterator[tuple[str, Any, Any]]:
    """(environment variable, annotation, default) of every leaf setting."""
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        name = f"{prefix}__{f.name.upper()}"
        annotation = hints[f.name]
        if isinstance(annotation, type) and dataclasses.is_dataclass(annotation):
            yield from _fields(annotation, name)
        else:
            yield name, annotation, f


def setting_names() -> list[str]:
    """Every environment variable that is a setting."""
    return [name for name, _, _ in _fields(Settings, PREFIX)]


def _aliases() -> set[str]:
    return {
        alias for _, _, f in _fields(Settings, PREFIX) for alias in f.metadata.get("aliases", ())
    }


def unknown_variables(env: Mapping[str, str] | None = None) -> list[str]:
    """One sentence per variable that looks like a setting but is none (a typo, or
    Server 1's single underscore), naming the closest setting."""
    env = os.environ if env is None else env
    known = setting_names()
    accepted = _aliases() | NOT_SETTINGS
    warnings = []
    for name in sorted(env):
        if not name.startswith(PREFIX) or name in known or name in accepted:
            continue
        # PREFECT_SERVER_PORT and PREFECT_SERVER__PORTT should both find __PORT; the
        # shared prefix is left out of the comparison, or everything looks close.
        keys = {known_name[len(PREFIX) + 2 :]: known_name for known_name in known}
        close = difflib.get_close_matches(name[len(PREFIX) :].lstrip("_"), keys, n=1, cutoff=0.6)
        hint = (
            f"; did you mean {keys[close[0]]}?"
            if close
            else "; `prefect-server config` lists the settings."
        )
        warnings.append(f"{name} is not a prefect-server setting and is ignored{hint}")
    return warnings


def describe(env: Mapping[str, str] | None = None) -> list[tuple[str, str, str]]:
    """(variable, effective value with secrets masked, "default" or "environment")
    for every setting."""
    env = os.environ if env is None else env
    settings = load_settings(env)
    rows = []
    for name, _, f in _fields(Settings, PREFIX):
        path = name[len(PREFIX) + 2 :].lower().split("__")
        value: Any = settings
        for part in path:
            value = getattr(value, part)
        if name == f"{PREFIX}__API_KEYS":
            shown = ",".join("********" for _ in value)
        elif name == f"{PREFIX}__DATABASE__CONNECTION_URL":
            shown = mask_url(settings.database_url) if value else ""
        elif isinstance(value, bool):
            shown = str(value).lower()
        elif isinstance(value, tuple):
            shown = ",".join(value)
        else:
            shown = str(value)
        given = any(n in env for n in (name, *f.metadata.get("aliases", ())))
        rows.append((name, shown, "environment" if given else "default"))
    return rows


def load_settings(env: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
    """Read the settings from the environment (or the given mapping), once."""
    settings: Settings = _load(Settings, os.environ if env is None else env, PREFIX)
    settings = settings.replace(**overrides) if overrides else settings
    _validate(settings)
    return settings


def _validate(settings: Settings) -> None:
    # Values that parse but cannot work fail here, with the variable's name,
    # rather than later as an obscure error from uvicorn or the scheduler.
    if not 0 <= settings.port <= 65535:
        raise ValueError(
            f"Invalid setting {PREFIX}__PORT={settings.port}: expected a port from 0 to 65535"
        )
    if settings.logging.format not in ("text", "json"):
        raise ValueError(
            f"Invalid setting {PREFIX}__LOGGING__FORMAT={settings.logging.format!r}: "
            "expected text or json"
        )
    if settings.insert_many_batch_size < 1:
        raise ValueError(
            f"Invalid setting {PREFIX}__INSERT_MANY_BATCH_SIZE={settings.insert_many_batch_size}: "
            "expected at least 1"
        )
    if not re.fullmatch(r"\d+(\.\d+)*", settings.core_version_cutoff):
        raise ValueError(
            f"Invalid setting {PREFIX}__CORE_VERSION_CUTOFF={settings.core_version_cutoff!r}: "
            "expected a version such as 0.6.1"
        )
    services = settings.services
    for name, service in (
        ("SCHEDULER", services.scheduler),
        ("LAZARUS", services.lazarus),
        ("ZOMBIE_KILLER", services.zombie_killer),
        ("RETENTION", services.retention),
    ):
        if service.loop_seconds <= 0:
            raise ValueError(
                f"Invalid setting {PREFIX}__SERVICES__{name}__LOOP_SECONDS="
                f"{service.loop_seconds}: expected a positive number of seconds"
            )
    for key, days in (
        ("FLOW_RUN_DAYS", services.retention.flow_run_days),
        ("LOG_DAYS", services.retention.log_days),
    ):
        if days < 0:
            raise ValueError(
                f"Invalid setting {PREFIX}__SERVICES__RETENTION__{key}={days}: "
                "expected a number of days, or 0 to keep forever"
            )
