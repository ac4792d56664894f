"""The Prefect 1 state classes, known without importing Prefect Core.

Parents and colours are those of ``prefect.engine.state`` in Prefect 1.4.1.
"""

from __future__ import annotations

# name -> (parent, colour)
STATE_CLASSES: dict[str, tuple[str | None, str]] = {
    "State": (None, "#696969"),
    "_MetaState": ("State", "#696969"),
    "Pending": ("State", "#7ebdff"),
    "Running": ("State", "#3d67ff"),
    "Finished": ("State", "#003ccb"),
    "ClientFailed": ("_MetaState", "#eb0000"),
    "Queued": ("_MetaState", "#ffea7f"),
    "Submitted": ("_MetaState", "#ffdf5d"),
    "Scheduled": ("Pending", "#ffab00"),
    "Paused": ("Scheduled", "#99a8e8"),
    "Resume": ("Scheduled", "#f58c0c"),
    "Retrying": ("Scheduled", "#f66a0a"),
    "Cancelling": ("Running", "#E8E8E8"),
    "Cancelled": ("Finished", "#bdbdbd"),
    "Failed": ("Finished", "#eb0000"),
    "Looped": ("Finished", "#003ccb"),
    "Success": ("Finished", "#28a745"),
    "Cached": ("Success", "#34d058"),
    "Mapped": ("Success", "#003ccb"),
    "Skipped": ("Success", "#62757f"),
    "TimedOut": ("Failed", "#ff4e33"),
    "TriggerFailed": ("Failed", "#ff5131"),
    "ValidationFailed": ("Failed", "#ff5131"),
}

# The types a client may send; the abstract State and _MetaState are not among them.
STATE_TYPES = frozenset(name for name in STATE_CLASSES if name not in ("State", "_MetaState"))


def ancestors(name: str) -> list[str]:
    """The class itself and its parents, nearest first."""
    chain: list[str] = []
    current: str | None = name
    while current is not None:
        chain.append(current)
        current = STATE_CLASSES[current][0]
    return chain


def is_a(name: str | None, parent: str) -> bool:
    """Whether state class ``name`` is ``parent`` or one of its subclasses."""
    return name in STATE_CLASSES and parent in ancestors(name)  # type: ignore[arg-type]


def descendants(name: str) -> list[str]:
    return [child for child in STATE_CLASSES if name in ancestors(child)]


def state_hierarchy() -> dict[str, list[str]]:
    return {name: descendants(name) for name in STATE_CLASSES}


def state_info() -> dict[str, dict[str, str]]:
    return {name: {"color": colour} for name, (_, colour) in STATE_CLASSES.items()}


# Scheduled or Queued and their subclasses: what the run queue hands to agents.
SCHEDULED_STATES = frozenset(
    name for name in STATE_CLASSES if is_a(name, "Scheduled") or is_a(name, "Queued")
)
FINISHED_STATES = frozenset(name for name in STATE_CLASSES if is_a(name, "Finished"))
RUNNING_STATES = frozenset(name for name in STATE_CLASSES if is_a(name, "Running"))
# States whose insert sets the run's end_time, as in Server 1's trigger
# update_flow_run_details_on_state_insert (services/postgres/alembic/versions/2020-09-02T203435_simplify_run_state_update_triggers.py).
END_TIME_STATES = frozenset({"Success", "Failed", "Cached", "TimedOut", "Looped", "Cancelled"})
