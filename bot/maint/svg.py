"""A :class:`~bot.maint.flow_graph.FlowGraph` as a standalone SVG, laid out in pure Python.

No Graphviz, browser or network: steps are placed in rows by their distance from the start,
forward edges run down, edges back up (the "enter again" loops) curve out to the right, and a
step that re-asks gets a small self-loop. Plain, deterministic, good enough to print.
"""

from __future__ import annotations

from collections import defaultdict
from xml.sax.saxutils import escape

from bot.maint.flow_graph import START, Edge, FlowGraph, Node

WIDTH, HEIGHT, GAP_X, GAP_Y, MARGIN = 240, 52, 40, 70, 30
FILLS = {
    "start": "#e8f5e9",
    "step": "#ffffff",
    "end": "#e8f5e9",
    "action": "#fde2e2",
    "page": "#e2ecfd",
}


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


def _positions(graph: FlowGraph) -> tuple[dict[str, tuple[float, float]], float, float]:
    ranks = _ranks(graph)
    rows: dict[int, list[Node]] = defaultdict(list)
    for node in graph.nodes:
        rows[ranks[node.id]].append(node)
    widest = max(len(row) for row in rows.values())
    width = widest * (WIDTH + GAP_X) + 2 * MARGIN + 160  # room for loops on the right
    places: dict[str, tuple[float, float]] = {}
    for rank, row in rows.items():
        row_width = len(row) * WIDTH + (len(row) - 1) * GAP_X
        left = MARGIN + (widest * (WIDTH + GAP_X) - GAP_X - row_width) / 2
        for index, node in enumerate(row):
            places[node.id] = (left + index * (WIDTH + GAP_X), MARGIN + rank * (HEIGHT + GAP_Y))
    height = MARGIN * 2 + (max(rows) + 1) * (HEIGHT + GAP_Y)
    return places, float(width), float(height)


def _node(node: Node, x: float, y: float) -> str:
    radius = 24 if node.shape in ("start", "end", "action") else 4
    return (
        f'<g class="node {node.shape}"><rect x="{x:.0f}" y="{y:.0f}" width="{WIDTH}" '
        f'height="{HEIGHT}" rx="{radius}" fill="{FILLS[node.shape]}" stroke="#333"/>'
        f'<text x="{x + WIDTH / 2:.0f}" y="{y + 20:.0f}" font-weight="bold">'
        f"{escape(node.title)}</text>"
        f'<text x="{x + WIDTH / 2:.0f}" y="{y + 38:.0f}" font-size="11">{escape(node.text)}</text>'
        "</g>"
    )


def _edge(edge: Edge, places: dict[str, tuple[float, float]], index: int) -> str:
    (sx, sy), (tx, ty) = places[edge.source], places[edge.target]
    dash = ' stroke-dasharray="6 4"' if edge.dashed else ""
    if edge.source == edge.target:
        x, y = sx + WIDTH, sy + HEIGHT / 2
        path = f"M{x:.0f},{y - 10:.0f} C{x + 45:.0f},{y - 30:.0f} {x + 45:.0f},{y + 30:.0f} "
        path += f"{x:.0f},{y + 10:.0f}"
        label_x, label_y = x + 40, y + 4
    elif ty > sy:
        x1, y1, x2, y2 = sx + WIDTH / 2, sy + HEIGHT, tx + WIDTH / 2, ty
        path = f"M{x1:.0f},{y1:.0f} L{x2:.0f},{y2:.0f}"
        label_x, label_y = (x1 + x2) / 2, (y1 + y2) / 2
    else:
        bend = max(sx, tx) + WIDTH + 70 + 14 * (index % 4)
        x1, y1, x2, y2 = sx + WIDTH, sy + HEIGHT * 0.75, tx + WIDTH, ty + HEIGHT * 0.25
        path = f"M{x1:.0f},{y1:.0f} C{bend:.0f},{y1:.0f} {bend:.0f},{y2:.0f} {x2:.0f},{y2:.0f}"
        label_x, label_y = bend - 10, (y1 + y2) / 2
    label = (
        f'<text class="label" x="{label_x:.0f}" y="{label_y:.0f}" font-size="11">'
        f"{escape(edge.label)}</text>"
        if edge.label
        else ""
    )
    return (
        f'<g class="edge"><path d="{path}" fill="none" stroke="#555"{dash} '
        f'marker-end="url(#arrow)"/>{label}</g>'
    )


def to_svg(graph: FlowGraph) -> str:
    places, width, height = _positions(graph)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
        f'viewBox="0 0 {width:.0f} {height:.0f}" font-family="sans-serif" font-size="13" '
        'text-anchor="middle">',
        f"<title>{escape(graph.title)} ({escape(graph.flow_id)})</title>",
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" '
        'markerHeight="8" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#555"/>'
        "</marker></defs>",
        "<style>.label { paint-order: stroke; stroke: #fff; stroke-width: 3px; }</style>",
    ]
    parts += [_edge(edge, places, index) for index, edge in enumerate(graph.edges)]
    parts += [_node(node, *places[node.id]) for node in graph.nodes]
    parts.append("</svg>")
    return "\n".join(parts) + "\n"
