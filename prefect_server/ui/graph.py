"""Laying out a flow's task graph for an SVG: columns by dependency depth, no I/O.

A task's column is the longest path from a root to it, so every edge points right.
Within a column tasks are ordered by where their upstream tasks sit (one barycentre
sweep), which removes most crossings of the usual fan-out / fan-in flows cheaply.
Edges from a cycle (never valid in Prefect, but the rows are not checked) are kept
and drawn; the cycle's tasks go after everything that could be placed.
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Hashable, Sequence
from dataclasses import dataclass

MAX_NODES = 300
NODE_WIDTH = 168.0
NODE_HEIGHT = 34.0
COLUMN_GAP = 56.0
ROW_GAP = 14.0
MARGIN = 8.0
LABEL_CHARS = 22


@dataclass(frozen=True)
class NodeIn:
    id: Hashable
    name: str
    parameter: bool = False


@dataclass(frozen=True)
class EdgeIn:
    upstream: Hashable
    downstream: Hashable
    mapped: bool = False


@dataclass(frozen=True)
class Node:
    id: Hashable
    name: str
    label: str
    parameter: bool
    column: int
    row: int
    x: float
    y: float
    width: float = NODE_WIDTH
    height: float = NODE_HEIGHT


@dataclass(frozen=True)
class Edge:
    path: str
    mapped: bool


@dataclass(frozen=True)
class Layout:
    nodes: list[Node]
    edges: list[Edge]
    width: float
    height: float


def truncate(text: str, limit: int = LABEL_CHARS) -> str:
    """Long names lose their middle: mapped siblings often differ only at the end."""
    if len(text) <= limit:
        return text
    tail = (limit - 1) // 3
    return text[: limit - 1 - tail] + "…" + text[len(text) - tail :]


def columns(ids: Sequence[Hashable], edges: Sequence[EdgeIn]) -> dict[Hashable, int]:
    """Longest path from a root to each node; nodes on a cycle follow all the others."""
    known = set(ids)
    downstream: dict[Hashable, list[Hashable]] = defaultdict(list)
    waiting: dict[Hashable, int] = dict.fromkeys(ids, 0)
    for e in edges:
        if e.upstream in known and e.downstream in known and e.upstream != e.downstream:
            downstream[e.upstream].append(e.downstream)
            waiting[e.downstream] += 1
    column = dict.fromkeys(ids, 0)
    ready = deque(n for n in ids if waiting[n] == 0)
    placed: set[Hashable] = set()
    while ready:
        node = ready.popleft()
        placed.add(node)
        for child in downstream[node]:
            column[child] = max(column[child], column[node] + 1)
            waiting[child] -= 1
            if waiting[child] == 0:
                ready.append(child)
    if len(placed) < len(known):
        # Kahn's algorithm stops at a cycle: its members get one column after the rest.
        last = max((column[n] for n in placed), default=-1) + 1
        for node in ids:
            if node not in placed:
                column[node] = max(column[node], last)
    return column


def layout(nodes: Sequence[NodeIn], edges: Sequence[EdgeIn]) -> Layout | None:
    """Positions for every node and a path for every edge; None beyond MAX_NODES."""
    if len(nodes) > MAX_NODES:
        return None
    ids = [n.id for n in nodes]
    by_id = {n.id: n for n in nodes}
    column = columns(ids, edges)
    upstream: dict[Hashable, list[Hashable]] = defaultdict(list)
    for e in edges:
        if e.upstream in by_id and e.downstream in by_id:
            upstream[e.downstream].append(e.upstream)

    layers: dict[int, list[Hashable]] = defaultdict(list)
    for node_id in ids:
        layers[column[node_id]].append(node_id)
    row: dict[Hashable, int] = {}
    for index in sorted(layers):
        members = layers[index]

        def weight(node_id: Hashable) -> tuple[float, str]:
            parents = [row[p] for p in upstream[node_id] if p in row]
            centre = sum(parents) / len(parents) if parents else float("inf")
            return centre, by_id[node_id].name

        for position, node_id in enumerate(sorted(members, key=weight)):
            row[node_id] = position

    rows_used = max((len(m) for m in layers.values()), default=0)
    # Short columns are centred on the tallest one, so a fan-in sits level with its fan.
    shift = {index: (rows_used - len(m)) / 2 for index, m in layers.items()}
    placed: dict[Hashable, Node] = {}
    for node_id in ids:
        n = by_id[node_id]
        placed[node_id] = Node(
            id=node_id,
            name=n.name,
            label=truncate(n.name),
            parameter=n.parameter,
            column=column[node_id],
            row=row[node_id],
            x=MARGIN + column[node_id] * (NODE_WIDTH + COLUMN_GAP),
            y=MARGIN + (row[node_id] + shift[column[node_id]]) * (NODE_HEIGHT + ROW_GAP),
        )
    drawn = [
        Edge(path=_path(placed[e.upstream], placed[e.downstream]), mapped=e.mapped)
        for e in edges
        if e.upstream in placed and e.downstream in placed
    ]
    columns_used = max(column.values(), default=-1) + 1
    width = 2 * MARGIN + max(0, columns_used * (NODE_WIDTH + COLUMN_GAP) - COLUMN_GAP)
    height = 2 * MARGIN + max(0, rows_used * (NODE_HEIGHT + ROW_GAP) - ROW_GAP)
    return Layout(nodes=list(placed.values()), edges=drawn, width=width, height=height)


def _path(a: Node, b: Node) -> str:
    """A curve from a's right side to b's left side (looping around when b is not to the right)."""
    x1, y1 = a.x + a.width, a.y + a.height / 2
    x2, y2 = b.x, b.y + b.height / 2
    bend = max(COLUMN_GAP / 2, (x2 - x1) / 2) if x2 > x1 else COLUMN_GAP
    return (
        f"M{x1:.1f},{y1:.1f} C{x1 + bend:.1f},{y1:.1f} {x2 - bend:.1f},{y2:.1f} {x2:.1f},{y2:.1f}"
    )
