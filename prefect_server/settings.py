"""One typed settings object, read once from the environment and passed down.

Environment variables follow Server 1's scheme: ``PREFECT_SERVER__<SECTION>__<KEY>``,
for example ``PREFECT_SERVER__DATABASE__CONNECTION_URL`` or
``PREFECT_SERVER__SERVICES__SCHEDULER__LOOP_SECONDS``.
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import os
import types
import typing
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PREFIX = "PREFECT_SERVER"


@dataclass(frozen=True)
class DatabaseSettings:
    # Empty means "a SQLite file under home"; resolved by Settings.database_url.
    connection_url: str = ""
    migrate_on_start: bool = True
    echo: bool = False
    pool_size: int = 10
    sqlite_busy_timeout_seconds: float = 30.0
    # During a PostgreSQL outage requests fail within these bounds instead of hanging
    # (asyncpg waits 60 s for a connection and SQLAlchemy 30 s for a pooled one).
    connect_timeout_seconds: float = 5.0
    pool_timeout_seconds: float = 10.0


@dataclass(frozen=True)
class SchedulerSettings:
    enabled: bool = True
    loop_seconds: float = 150.0
    max_scheduled_runs_per_flow: int = 10


@dataclass(frozen=True)
class LazarusSettings:
    enabled: bool = True
    loop_seconds: float = 600.0
    heartbeat_timeout_seconds: float = 600.0
    resurrection_attempt_limit: int = 3


@dataclass(frozen=True)
class ZombieKillerSettings:
    enabled: bool = True
    loop_seconds: float = 120.0
    heartbeat_timeout_seconds: float = 600.0


@dataclass(frozen=True)
class RetentionSettings:
    enabled: bool = True
    loop_seconds: float = 3600.0
    # 0 keeps forever, the default: Server 1 never deleted history and its users expect
    # theirs to stay until they choose a period.
    flow_run_days: int = 0
    log_days: int = 0


@dataclass(frozen=True)
class ServicesSettings:
    enabled: bool = True
    scheduler: SchedulerSettings = field(default_factory=SchedulerSettings)
    lazarus: LazarusSettings = field(default_factory=LazarusSettings)
    zombie_killer: ZombieKillerSettings = field(default_factory=ZombieKillerSettings)
    retention: RetentionSettings = field(default_factory=RetentionSettings)


@dataclass(frozen=True)
class HooksSettings:
    timeout_seconds: float = 2.0
    # Base URLs of the notification services; tests point them at a local receiver.
    slack_base_url: str = ""
    twilio_base_url: str = "https://api.twilio.com"
    pagerduty_base_url: str = "https://events.pagerduty.com"


@dataclass(frozen=True)
class UISettings:
    # The built-in web UI under /ui (prefect-server start --no-ui turns it off).
    enabled: bool = True
    # Public base URL of the UI, for links in notifications; empty means API_URL + "/ui".
    url: str = ""
    # How long a key login to the UI lasts (only when API keys are set).
    session_hours: float = 24.0 * 7


@dataclass(frozen=True)
class MetricsSettings:
    enabled: bool = True
    # Serve /metrics without an API key even when keys are set (a scraper in the cluster).
    public: bool = False
    # Runs per state are counted at most this often, however often Prometheus scrapes.
    state_counts_cache_seconds: float = 5.0
    # Distinct operationName labels kept per process; later names count as "other".
    max_operation_names: int = 100
    # Where the worker processes of `start --workers N` share their metric files;
    # empty: a fresh temporary directory per start.
    multiprocess_dir: str = ""


@dataclass(frozen=True)
class LoggingSettings:
    # "text" (human-readable) or "json" (one object per line, for log collectors).
    format: str = "text"


@dataclass(frozen=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 4200
    home: str = "~/.prefect_server"
    # Public URL of the API, used in links inside cloud-hook notifications.
    api_url: str = "http://localhost:4200"
    api_keys: tuple[str, ...] = ()
    log_level: str = "INFO"
    core_version_cutoff: str = "0.6.1"
    queued_runs_returned_limit: int = 25
    insert_many_batch_size: int = 200
    artifacts_max_payload_bytes: int = 1_000_000
    state_max_payload_bytes: int = 1_000_000
    max_request_body_bytes: int = 5 * 1024 * 1024
    query_depth_limit: int = 7
    # Run the client's hottest documents through execution plans (graphql/plans.py).
    # Off: every document goes through the general executor; answers are the same.
    graphql_plans: bool = True
    database: DatabaseSettings = field(default_factory=DatabaseSettings)
    services: ServicesSettings = field(default_factory=ServicesSettings)
    hooks: HooksSettings = field(default_factory=HooksSettings)
    ui: UISettings = field(default_factory=UISettings)
    metrics: MetricsSettings = field(default_factory=MetricsSettings)
    logging: LoggingSettings = field(default_factory=LoggingSettings)
    # On SIGTERM: how long requests in flight may take to finish (then the services'
    # passes and pending cloud hooks get a bounded moment of their own).
    graceful_shutdown_seconds: float = 30.0

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
        elif name in env:
            if isinstance(annotation, types.UnionType):
                annotation = next(a for a in typing.get_args(annotation) if a is not type(None))
            try:
                values[f.name] = _convert(env[name], annotation, name)
            except ValueError as exc:
                raise ValueError(f"Invalid setting {name}={env[name]!r}: {exc}") from exc
    return cls(**values)


# Variables with our prefix that are not settings but are read on purpose: the test
# suite's database and the version string the API reports (graphql/reference.py).
NOT_SETTINGS = frozenset({"PREFECT_SERVER_TEST_DATABASE_URL", "PREFECT_SERVER_VERSION"})


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


def unknown_variables(env: Mapping[str, str]) -> list[str]:
    """One sentence per variable that looks like a setting but is none (a typo, or
    Server 1's single underscore), naming the closest setting."""
    known = setting_names()
    warnings = []
    for name in sorted(env):
        if not name.startswith(PREFIX) or name in known or name in NOT_SETTINGS:
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
    for name, _, _ in _fields(Settings, PREFIX):
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
        rows.append((name, shown, "environment" if name in env else "default"))
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
