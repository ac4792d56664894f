"""The README's settings table is the one generated from the settings object, and every
setting carries a description: a setting added without one, or a README left behind,
fails here (regenerate with ``python -m prefect_server.settings_doc --write README.md``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from prefect_server import settings_doc
from prefect_server.settings import describe, setting_names

README = Path(__file__).parent.parent / "README.md"


def _readme_table() -> str:
    text = README.read_text()
    assert text.count(settings_doc.START) == 1 and text.count(settings_doc.END) == 1
    start = text.index(settings_doc.START)
    return text[start : text.index(settings_doc.END, start) + len(settings_doc.END)]


def test_every_setting_has_a_description() -> None:
    assert settings_doc.undocumented() == []


def test_the_readme_holds_the_generated_table_exactly() -> None:
    assert _readme_table() == settings_doc.table()


def test_the_table_has_one_row_per_setting_in_order() -> None:
    rows = [line for line in _readme_table().splitlines() if line.startswith("| `")]
    assert [row.split("`")[1] for row in rows] == setting_names()


def test_the_default_column_is_what_config_shows_without_environment() -> None:
    effective = {name: value for name, value, _ in describe({})}
    for doc in settings_doc.settings_docs():
        if doc.variable == "PREFECT_SERVER__DATABASE__CONNECTION_URL":
            continue  # empty by default; config shows it empty too, resolved at start
        shown = doc.default.strip("`")
        expected = effective[doc.variable]
        if shown == "empty":
            assert expected == "", doc.variable
        else:
            # floats such as 30.0 are printed as 30 in the table
            assert shown == expected or float(shown) == float(expected), doc.variable


def test_write_replaces_only_the_part_between_the_markers(tmp_path: Path) -> None:
    page = tmp_path / "README.md"
    page.write_text(f"before\n{settings_doc.START}\nold table\n{settings_doc.END}\nafter\n")
    assert settings_doc.main(["--write", str(page)]) == 0
    assert page.read_text() == f"before\n{settings_doc.table()}\nafter\n"


def test_a_page_without_the_markers_is_refused() -> None:
    with pytest.raises(ValueError, match="markers"):
        settings_doc.replace_table("no table here\n")
