"""A :class:`~bot.maint.flow_graph.FlowGraph` as Mermaid text (the forge renders it in Markdown)."""

from __future__ import annotations

import re

from bot.maint.flow_graph import Edge, FlowGraph, Node

SHAPES = {
    "start": ('(["', '"])'),
    "step": ('["', '"]'),
    "end": ('(["', '"])'),
    "action": ('{{"', '"}}'),
    "page": ('[/"', '"/]'),
}


def node_id(name: str) -> str:
    return "n_" + re.sub(r"\W", "_", name.lstrip("@")) + ("_action" if name[:1] == "@" else "")


def _escape(text: str) -> str:
    return (
        text.replace("&", "#amp;").replace('"', "#quot;").replace("<", "#lt;").replace(">", "#gt;")
    )


def _node(node: Node) -> str:
    opening, closing = SHAPES[node.shape]
    label = f"<b>{_escape(node.title)}</b>"
    if node.text:
        label += f"<br/>{_escape(node.text)}"
    return f"    {node_id(node.id)}{opening}{label}{closing}"


def _edge(edge: Edge) -> str:
    arrow = "-.->" if edge.dashed else "-->"
    label = f'|"{_escape(edge.label)}"|' if edge.label else ""
    return f"    {node_id(edge.source)} {arrow}{label} {node_id(edge.target)}"


def to_mermaid(graph: FlowGraph) -> str:
    lines = ["flowchart TD", *(_node(node) for node in graph.nodes)]
    lines += [_edge(edge) for edge in graph.edges]
    lines += [
        "    classDef action fill:#fde2e2,stroke:#c0392b",
        "    classDef page fill:#e2ecfd,stroke:#2c5fb5",
    ]
    for shape in ("action", "page"):
        members = [node_id(n.id) for n in graph.nodes if n.shape == shape]
        if members:
            lines.append(f"    class {','.join(members)} {shape}")
    return "\n".join(lines) + "\n"
