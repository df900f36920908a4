"""A :class:`~bot.maint.flow_graph.FlowGraph` as a standalone SVG, laid out in pure Python.

No Graphviz, browser or network: steps are placed in rows by their distance from the start,
forward edges run down, edges back up (the "enter again" loops) curve out to the right, and a
step that re-asks gets a small self-loop. Plain, deterministic, good enough to print.

Nothing overlaps: boxes are as wide as their widest text (measured with a conservative width
per character, :func:`text_width`), and each edge label is placed at the first spot near its
edge where its box touches no step and no label placed before it; it sits on a white box so
the line under it does not cross the words. The canvas grows to hold every label.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from xml.sax.saxutils import escape

from bot.maint.flow_graph import START, Edge, FlowGraph, Node

MIN_WIDTH, HEIGHT, GAP_X, GAP_Y, MARGIN, PAD = 240, 52, 60, 90, 30, 12
TITLE_SIZE, TEXT_SIZE, LABEL_SIZE, LABEL_HEIGHT = 13, 11, 11, 16
FILLS = {
    "start": "#e8f5e9",
    "step": "#ffffff",
    "end": "#e8f5e9",
    "action": "#fde2e2",
    "page": "#e2ecfd",
}


def text_width(text: str, size: float, *, bold: bool = False) -> float:
    """An upper bound of the width of ``text`` in a sans-serif font (no font files needed):
    0.62 em per character, 0.68 em bold — wider than Helvetica/DejaVu's average."""
    return len(text) * size * (0.68 if bold else 0.62)


@dataclass(frozen=True, slots=True)
class Box:
    x: float
    y: float
    width: float
    height: float

    def overlaps(self, other: Box) -> bool:
        return not (
            self.x + self.width <= other.x
            or other.x + other.width <= self.x
            or self.y + self.height <= other.y
            or other.y + other.height <= self.y
        )


def _ranks(graph: FlowGraph) -> dict[str, int]:
    """Shortest distance from the start; anything unreached goes below everything else."""
    following: dict[str, list[str]] = defaultdict(list)
    for edge in graph.edges:
        if edge.source != edge.target:
            following[edge.source].append(edge.target)
    ranks, todo = {START: 0}, [START]
    while todo:
        current = todo.pop(0)
        for target in following[current]:
            if target not in ranks:
                ranks[target] = ranks[current] + 1
                todo.append(target)
    bottom = max(ranks.values()) + 1
    return {node.id: ranks.get(node.id, bottom) for node in graph.nodes}


def node_width(graph: FlowGraph) -> float:
    """One width for every box: the widest title or text plus padding."""
    widest = max(
        max(text_width(n.title, TITLE_SIZE, bold=True), text_width(n.text, TEXT_SIZE))
        for n in graph.nodes
    )
    return max(MIN_WIDTH, widest + 2 * PAD)


def _positions(graph: FlowGraph, width: float) -> dict[str, Box]:
    ranks = _ranks(graph)
    rows: dict[int, list[Node]] = defaultdict(list)
    for node in graph.nodes:
        rows[ranks[node.id]].append(node)
    widest = max(len(row) for row in rows.values())
    places: dict[str, Box] = {}
    for rank, row in rows.items():
        row_width = len(row) * width + (len(row) - 1) * GAP_X
        left = MARGIN + (widest * (width + GAP_X) - GAP_X - row_width) / 2
        for index, node in enumerate(row):
            x, y = left + index * (width + GAP_X), MARGIN + rank * (HEIGHT + GAP_Y)
            places[node.id] = Box(x, y, width, HEIGHT)
    return places


def _node(node: Node, box: Box) -> str:
    radius = 24 if node.shape in ("start", "end", "action") else 4
    middle = box.x + box.width / 2
    return (
        f'<g class="node {node.shape}"><rect x="{box.x:.0f}" y="{box.y:.0f}" '
        f'width="{box.width:.0f}" height="{box.height:.0f}" rx="{radius}" '
        f'fill="{FILLS[node.shape]}" stroke="#333"/>'
        f'<text x="{middle:.0f}" y="{box.y + 20:.0f}" font-weight="bold">'
        f"{escape(node.title)}</text>"
        f'<text x="{middle:.0f}" y="{box.y + 38:.0f}" font-size="{TEXT_SIZE}">'
        f"{escape(node.text)}</text></g>"
    )


def _route(edge: Edge, places: dict[str, Box], index: int) -> tuple[str, float, float]:
    """The edge's path and the point its label would like to sit at."""
    source, target = places[edge.source], places[edge.target]
    if edge.source == edge.target:
        x, y = source.x + source.width, source.y + source.height / 2
        path = f"M{x:.0f},{y - 10:.0f} C{x + 45:.0f},{y - 30:.0f} {x + 45:.0f},{y + 30:.0f} "
        return path + f"{x:.0f},{y + 10:.0f}", x + 40, y
    if target.y > source.y:
        x1, y1 = source.x + source.width / 2, source.y + source.height
        x2, y2 = target.x + target.width / 2, target.y
        return f"M{x1:.0f},{y1:.0f} L{x2:.0f},{y2:.0f}", (x1 + x2) / 2, (y1 + y2) / 2
    bend = max(source.x, target.x) + source.width + 70 + 24 * (index % 5)
    x1, y1 = source.x + source.width, source.y + source.height * 0.75
    x2, y2 = target.x + target.width, target.y + target.height * 0.25
    path = f"M{x1:.0f},{y1:.0f} C{bend:.0f},{y1:.0f} {bend:.0f},{y2:.0f} {x2:.0f},{y2:.0f}"
    return path, bend, (y1 + y2) / 2


def _candidates(x: float, y: float) -> Iterator[tuple[float, float]]:
    """Spots near (x, y), nearest first: along the edge, then sideways."""
    yield x, y
    for step in range(1, 40):
        for dx, dy in ((0, step), (0, -step), (step, 0), (-step, 0), (step, step), (-step, step)):
            yield x + dx * 8, y + dy * 8


def _label_box(text: str, x: float, y: float, taken: list[Box]) -> Box:
    width, height = text_width(text, LABEL_SIZE) + 8, LABEL_HEIGHT
    for cx, cy in _candidates(x, y):
        box = Box(cx - width / 2, cy - height / 2, width, height)
        if box.x >= 0 and box.y >= 0 and not any(box.overlaps(other) for other in taken):
            return box
    return Box(x - width / 2, y - height / 2, width, height)  # pragma: no cover - never seen


def _edge(edge: Edge, path: str, box: Box | None) -> str:
    dash = ' stroke-dasharray="6 4"' if edge.dashed else ""
    label = ""
    if box is not None:
        label = (
            f'<rect class="label-box" x="{box.x:.0f}" y="{box.y:.0f}" width="{box.width:.0f}" '
            f'height="{box.height:.0f}" fill="#fff" fill-opacity="0.9"/>'
            f'<text class="label" x="{box.x + box.width / 2:.0f}" y="{box.y + 12:.0f}" '
            f'font-size="{LABEL_SIZE}">{escape(edge.label)}</text>'
        )
    return (
        f'<g class="edge"><path d="{path}" fill="none" stroke="#555"{dash} '
        f'marker-end="url(#arrow)"/>{label}</g>'
    )


def to_svg(graph: FlowGraph) -> str:
    places = _positions(graph, node_width(graph))
    taken = list(places.values())
    edges = []
    for index, edge in enumerate(graph.edges):
        path, x, y = _route(edge, places, index)
        box = _label_box(edge.label, x, y, taken) if edge.label else None
        if box is not None:
            taken.append(box)
        edges.append(_edge(edge, path, box))
    right = max(b.x + b.width for b in taken) + 120  # room for the loops bending right
    bottom = max(b.y + b.height for b in taken) + MARGIN
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{right:.0f}" height="{bottom:.0f}" '
        f'viewBox="0 0 {right:.0f} {bottom:.0f}" font-family="sans-serif" '
        f'font-size="{TITLE_SIZE}" text-anchor="middle">',
        f"<title>{escape(graph.title)} ({escape(graph.flow_id)})</title>",
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" '
        'markerHeight="8" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#555"/>'
        "</marker></defs>",
        *edges,
        *(_node(node, places[node.id]) for node in graph.nodes),
        "</svg>",
    ]
    return "\n".join(parts) + "\n"
