"""The README's settings table, made from the settings object itself.

``python -m prefect_server.settings_doc`` prints the table; ``--write README.md``
replaces the part of the file between the two markers. ``tests/test_settings_doc.py``
fails when the README's table differs from this one, so a setting added without a
description, or a README left behind, fails the suite.
"""

from __future__ import annotations

import sys
import types
import typing
from collections.abc import Iterator
from dataclasses import Field, dataclass
from pathlib import Path
from typing import Any

from prefect_server.settings import PREFIX, Settings, _fields

START = "<!-- settings:start -->"
END = "<!-- settings:end -->"


@dataclass(frozen=True)
class SettingDoc:
    variable: str
    type: str
    default: str
    description: str


def _type_name(annotation: Any) -> str:
    if isinstance(annotation, types.UnionType):
        names = [_type_name(a) for a in typing.get_args(annotation) if a is not type(None)]
        return " or ".join(names)
    if typing.get_origin(annotation) is tuple:
        return "list"
    return getattr(annotation, "__name__", str(annotation))


def _default(f: Field[Any]) -> str:
    value = f.default
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, tuple):
        return f"`{','.join(value)}`" if value else "empty"
    if value == "":
        return "empty"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return f"`{value}`"


def settings_docs() -> Iterator[SettingDoc]:
    """One entry per setting, in the order of the settings object."""
    for variable, annotation, f in _fields(Settings, PREFIX):
        description = str(f.metadata.get("doc", "")).strip()
        aliases = f.metadata.get("aliases", ())
        if description and aliases:
            description += " Also read from " + ", ".join(f"`{a}`" for a in aliases) + "."
        yield SettingDoc(
            variable=variable,
            type=_type_name(annotation),
            default=_default(f),
            description=description,
        )


def undocumented() -> list[str]:
    """Settings whose field carries no description."""
    return [doc.variable for doc in settings_docs() if not doc.description]


def table() -> str:
    """The Markdown table, between its markers."""
    lines = [START, "| variable | type | default | meaning |", "|---|---|---|---|"]
    for doc in settings_docs():
        description = doc.description.replace("|", "\\|").replace("\n", " ")
        lines.append(f"| `{doc.variable}` | {doc.type} | {doc.default} | {description} |")
    lines.append(END)
    return "\n".join(lines)


def replace_table(text: str) -> str:
    """``text`` with the part between the markers (included) replaced by the current table."""
    head, found, rest = text.partition(START)
    _, found_end, tail = rest.partition(END)
    if not found or not found_end:
        raise ValueError(f"the markers {START!r} and {END!r} are not both in the text")
    return head + table() + tail


def main(argv: list[str]) -> int:
    missing = undocumented()
    if missing:
        print("Settings without a description: " + ", ".join(missing), file=sys.stderr)
        return 1
    if argv[:1] == ["--write"] and len(argv) == 2:
        path = Path(argv[1])
        path.write_text(replace_table(path.read_text()))
        return 0
    if argv:
        print("usage: python -m prefect_server.settings_doc [--write README.md]", file=sys.stderr)
        return 2
    print(table())
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
