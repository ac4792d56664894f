"""Settings: Server 1's environment scheme, async URL mapping, clear errors, masking."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from prefect_server.cli import app as cli_app
from prefect_server.settings import (
    RetentionSettings,
    describe,
    load_settings,
    mask_url,
    setting_names,
    suite_database_url,
    to_async_url,
    unknown_variables,
)

P = "PREFECT_SERVER__"


def test_defaults_without_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    settings = load_settings(env={})
    assert (settings.host, settings.port) == ("127.0.0.1", 4200)
    assert settings.home_path == tmp_path / ".prefect_server"
    assert (
        settings.database_url
        == f"sqlite+aiosqlite:///{tmp_path / '.prefect_server'}/prefect_server.db"
    )
    assert settings.api_keys == ()
    assert settings.services.enabled and settings.database.migrate_on_start
    retention = settings.services.retention
    # Nothing is ever deleted unless a period is set.
    assert (retention.flow_run_days, retention.log_days) == (0, 0)


def test_environment_variables_are_read() -> None:
    settings = load_settings(
        env={
            f"{P}HOST": "0.0.0.0",
            f"{P}PORT": "4300",
            f"{P}HOME": "/srv/prefect",
            f"{P}API_KEYS": "key-one, key-two,,",
            f"{P}DATABASE__CONNECTION_URL": "postgresql://user:pw@db:5432/prefect",
            f"{P}DATABASE__MIGRATE_ON_START": "false",
            f"{P}SERVICES__ENABLED": "no",
            f"{P}SERVICES__SCHEDULER__ENABLED": "0",
            f"{P}SERVICES__SCHEDULER__LOOP_SECONDS": "12.5",
            f"{P}SERVICES__LAZARUS__LOOP_SECONDS": "30",
            f"{P}SERVICES__ZOMBIE_KILLER__HEARTBEAT_TIMEOUT_SECONDS": "90",
            f"{P}SERVICES__RETENTION__ENABLED": "off",
            f"{P}SERVICES__RETENTION__LOOP_SECONDS": "900",
            f"{P}SERVICES__RETENTION__FLOW_RUN_DAYS": "90",
            f"{P}SERVICES__RETENTION__LOG_DAYS": "14",
            "PREFECT_SERVER_TEST_DATABASE_URL": "ignored: not this scheme",
        }
    )
    assert settings.host == "0.0.0.0"
    assert settings.port == 4300
    assert settings.home_path == Path("/srv/prefect")
    assert settings.api_keys == ("key-one", "key-two")
    assert settings.database_url == "postgresql+asyncpg://user:pw@db:5432/prefect"
    assert settings.database.migrate_on_start is False
    assert settings.services.enabled is False
    assert settings.services.scheduler.enabled is False
    assert settings.services.scheduler.loop_seconds == 12.5
    assert settings.services.lazarus.loop_seconds == 30.0
    assert settings.services.zombie_killer.heartbeat_timeout_seconds == 90.0
    assert settings.services.retention == RetentionSettings(
        enabled=False, loop_seconds=900.0, flow_run_days=90, log_days=14
    )


def test_api_keys_as_json_list() -> None:
    settings = load_settings(env={f"{P}API_KEYS": '["a", "b,c"]'})
    assert settings.api_keys == ("a", "b,c")


def test_home_holds_the_default_sqlite_file() -> None:
    settings = load_settings(env={f"{P}HOME": "/data/home"})
    assert settings.database_url == "sqlite+aiosqlite:////data/home/prefect_server.db"


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgresql://u@h/db", "postgresql+asyncpg://u@h/db"),
        ("postgres://u@h/db", "postgresql+asyncpg://u@h/db"),
        ("postgresql+psycopg2://u@h/db", "postgresql+asyncpg://u@h/db"),
        ("postgresql+asyncpg://u@h/db", "postgresql+asyncpg://u@h/db"),
        ("sqlite:///relative.db", "sqlite+aiosqlite:///relative.db"),
        ("sqlite:////abs/path.db", "sqlite+aiosqlite:////abs/path.db"),
        ("sqlite+aiosqlite:///x.db", "sqlite+aiosqlite:///x.db"),
    ],
)
def test_urls_map_to_async_drivers(given: str, expected: str) -> None:
    assert to_async_url(given) == expected
    assert load_settings(env={f"{P}DATABASE__CONNECTION_URL": given}).database_url == expected


@pytest.mark.parametrize(
    ("name", "value", "fragment"),
    [
        ("PORT", "http", "PREFECT_SERVER__PORT='http'"),
        ("PORT", "70000", "PREFECT_SERVER__PORT=70000"),
        ("DATABASE__MIGRATE_ON_START", "maybe", "expected true or false"),
        ("SERVICES__ENABLED", "2", "PREFECT_SERVER__SERVICES__ENABLED"),
        ("SERVICES__SCHEDULER__LOOP_SECONDS", "soon", "SCHEDULER__LOOP_SECONDS"),
        ("SERVICES__LAZARUS__LOOP_SECONDS", "0", "expected a positive number of seconds"),
        ("DATABASE__POOL_SIZE", "ten", "PREFECT_SERVER__DATABASE__POOL_SIZE"),
        ("SERVICES__RETENTION__LOOP_SECONDS", "-1", "RETENTION__LOOP_SECONDS=-1.0"),
        ("SERVICES__RETENTION__FLOW_RUN_DAYS", "-1", "expected a number of days, or 0"),
        ("SERVICES__RETENTION__LOG_DAYS", "-7", "RETENTION__LOG_DAYS=-7"),
        ("SERVICES__RETENTION__LOG_DAYS", "2 weeks", "PREFECT_SERVER__SERVICES__RETENTION__LOG"),
        ("INSERT_MANY_BATCH_SIZE", "0", "INSERT_MANY_BATCH_SIZE=0: expected at least 1"),
        ("CORE_VERSION_CUTOFF", "latest", "CORE_VERSION_CUTOFF='latest': expected a version"),
    ],
)
def test_bad_values_give_a_clear_error(name: str, value: str, fragment: str) -> None:
    with pytest.raises(ValueError, match="Invalid setting") as raised:
        load_settings(env={f"{P}{name}": value})
    assert fragment in str(raised.value)


def test_mask_url_hides_the_password_only() -> None:
    masked = mask_url("postgresql+asyncpg://prefect:s3cr3t@db.example:5432/prefect")
    assert "s3cr3t" not in masked
    assert masked == "postgresql+asyncpg://prefect:***@db.example:5432/prefect"


def test_config_command_prints_effective_settings_masked() -> None:
    env = {
        f"{P}DATABASE__CONNECTION_URL": "postgresql://prefect:s3cr3t@db:5432/prefect",
        f"{P}API_KEYS": "topsecretkey1,topsecretkey2",
        f"{P}PORT": "4321",
    }
    result = CliRunner().invoke(cli_app, ["config", "--json"], env=env)
    assert result.exit_code == 0, result.output
    assert "s3cr3t" not in result.output and "topsecretkey" not in result.output
    printed = json.loads(result.stdout)
    assert printed["port"] == 4321
    assert printed["api_keys"] == ["********", "********"]
    assert (
        printed["database"]["connection_url"] == "postgresql+asyncpg://prefect:***@db:5432/prefect"
    )


def test_config_command_reports_a_bad_value_without_traceback() -> None:
    result = CliRunner().invoke(cli_app, ["config"], env={f"{P}PORT": "four"})
    assert result.exit_code == 2
    assert "Invalid setting PREFECT_SERVER__PORT='four'" in result.stderr
    assert "Traceback" not in result.output


def test_run_page_link_points_at_the_built_in_ui_or_the_original_one() -> None:
    settings = load_settings(env={"PREFECT_SERVER__API_URL": "https://prefect.example.com/"})
    assert settings.ui_base_url == "https://prefect.example.com/ui"
    link = settings.run_page_link.format(tenant_slug="default", flow_run_id="abc")
    assert link == "https://prefect.example.com/ui/flow-runs/abc"
    moved = load_settings(env={"PREFECT_SERVER__UI__URL": "https://ops.example.com/prefect/"})
    assert moved.run_page_link.format(tenant_slug="t", flow_run_id="1") == (
        "https://ops.example.com/prefect/flow-runs/1"
    )
    # With the built-in UI off, links go where the original Prefect UI serves a run.
    off = load_settings(
        env={"PREFECT_SERVER__UI__ENABLED": "false", "PREFECT_SERVER__API_URL": "http://h:8080"}
    )
    assert off.run_page_link.format(tenant_slug="default", flow_run_id="abc") == (
        "http://h:8080/default/flow-run/abc"
    )


def test_config_command_shows_variable_value_and_source() -> None:
    env: dict[str, str | None] = {k: None for k in os.environ if k.startswith(P[:-2])}
    env.update(
        {
            f"{P}DATABASE__CONNECTION_URL": "postgresql://prefect:s3cr3t@db:5432/prefect",
            f"{P}API_KEYS": "topsecretkey1",
            f"{P}PORT": "4321",
        }
    )
    result = CliRunner().invoke(cli_app, ["config"], env=env)
    assert result.exit_code == 0, result.output
    assert "s3cr3t" not in result.output and "topsecretkey" not in result.output
    rows = {line.split()[0]: line.split()[1:] for line in result.stdout.splitlines()}
    assert rows[f"{P}PORT"] == ["environment", "4321"]
    assert rows[f"{P}HOST"] == ["default", "127.0.0.1"]
    assert rows[f"{P}API_KEYS"] == ["environment", "********"]
    assert rows[f"{P}DATABASE__CONNECTION_URL"] == [
        "environment",
        "postgresql+asyncpg://prefect:***@db:5432/prefect",
    ]
    assert rows[f"{P}SERVICES__SCHEDULER__LOOP_SECONDS"] == ["default", "150.0"]
    # Every setting is listed, and only settings.
    assert set(rows) == set(setting_names())


@pytest.mark.parametrize(
    ("variable", "closest"),
    [
        ("PREFECT_SERVER__PORTT", "PREFECT_SERVER__PORT"),
        ("PREFECT_SERVER_PORT", "PREFECT_SERVER__PORT"),  # Server 1 habit: one underscore
        (
            "PREFECT_SERVER__DATABASE__CONECTION_URL",
            "PREFECT_SERVER__DATABASE__CONNECTION_URL",
        ),
        ("PREFECT_SERVER__SERVICES__LAZARUS__ENABLE", "PREFECT_SERVER__SERVICES__LAZARUS__ENABLED"),
    ],
)
def test_an_unknown_variable_names_the_closest_setting(variable: str, closest: str) -> None:
    (warning,) = unknown_variables({variable: "1", f"{P}HOST": "0.0.0.0"})
    assert warning.startswith(f"{variable} is not a prefect-server setting")
    assert warning.endswith(f"did you mean {closest}?")


def test_variables_that_are_not_settings_on_purpose_are_not_reported() -> None:
    env = {"PREFECT_SERVER_TEST_DATABASE_URL": "x", "PREFECT__BACKEND": "server", "HOME": "/"}
    assert unknown_variables(env) == []
    (warning,) = unknown_variables({"PREFECT_SERVER__BANANA": "1"})
    assert warning.endswith("`prefect-server config` lists the settings.")


def test_config_command_warns_about_an_unknown_variable() -> None:
    result = CliRunner().invoke(cli_app, ["config"], env={"PREFECT_SERVER__PORTT": "1"})
    assert result.exit_code == 0
    assert "Warning: PREFECT_SERVER__PORTT" in result.stderr
    assert "did you mean PREFECT_SERVER__PORT?" in result.stderr


def test_api_info_reads_server_1_variable_names_after_its_own() -> None:
    old_names = {
        "PREFECT_SERVER_VERSION": "2022.09.23",
        "PREFECT_CORE_VERSION": "1.3.0",
        "RELEASE_TIMESTAMP": "2022-09-23",
    }
    reported = load_settings(env=old_names).api_info
    assert (reported.version, reported.core_version, reported.release_timestamp) == (
        "2022.09.23",
        "1.3.0",
        "2022-09-23",
    )
    both = load_settings(env={**old_names, f"{P}API_INFO__CORE_VERSION": "1.4.1"})
    assert both.api_info.core_version == "1.4.1"
    # Server 1's names are read, so they are not reported as unknown.
    assert unknown_variables(old_names) == []
    rows = {name: source for name, _, source in describe(old_names)}
    assert rows[f"{P}API_INFO__VERSION"] == "environment"
    assert rows[f"{P}API_INFO__CORE_VERSION"] == "environment"


def test_the_suite_database_is_read_from_its_own_variable() -> None:
    assert suite_database_url({"PREFECT_SERVER_TEST_DATABASE_URL": "sqlite:///x.db"}) == (
        "sqlite:///x.db"
    )
    assert suite_database_url({"PREFECT_SERVER_TEST_DATABASE_URL": ""}) is None


def test_only_the_settings_module_reads_the_environment() -> None:
    # Settings are read once and passed down; a read anywhere else would be a setting
    # that `prefect-server config` does not list. Two modules write the environment for
    # other programs: cli.py for its worker processes, testing/client.py for the
    # Prefect client (whose variables it saves and restores).
    import ast

    import prefect_server

    package = Path(prefect_server.__file__).parent
    readers = set()
    for path in package.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Attribute) and node.attr in ("environ", "getenv"):
                readers.add(path.relative_to(package).as_posix())
    assert readers == {"settings.py", "cli.py", "testing/client.py"}
    cli = (package / "cli.py").read_text()
    assert cli.count("os.environ") == 1 and "os.environ.update(" in cli
