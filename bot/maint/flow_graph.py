"""A flow as a graph to draw: steps, branches, error loops, hand-offs and ``@actions``.

Edges carry what takes the customer along them: a button label, ``found``/``not found``, a
branch condition, ``change``; a step that re-asks on bad input gets a self-loop "invalid";
a hand-off goes through its web page (a one-time link). Step kinds this module does not know
still draw, from their ``Target`` fields. Edition variants are not in the flow model yet.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from dialogs.flow import Flow
from dialogs.steps.base import ACTIONS, Step

START = "__start__"
FIELD_LABELS = {
    "found": "found",
    "not_found": "not found",
    "change": "change",
    "default": "otherwise",
    "accept": "accept",
    "decline": "decline",
}
NEXT_LABELS = {"code": "right code", "ask": "valid", "phone": "valid"}


@dataclass(frozen=True, slots=True)
class Node:
    id: str
    title: str  # e.g. "eik · ask"
    text: str  # a short excerpt of what the step says
    shape: str  # "start" | "step" | "end" | "action" | "page"


@dataclass(frozen=True, slots=True)
class Edge:
    source: str
    target: str
    label: str = ""
    dashed: bool = False


@dataclass(slots=True)
class FlowGraph:
    flow_id: str
    title: str
    nodes: list[Node] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)


def short(text: str, width: int = 48) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1].rstrip() + "…"


def flow_graph(flow: Flow) -> FlowGraph:
    graph = FlowGraph(flow.id, flow.title)
    graph.nodes.append(Node(START, "start", short(flow.title), "start"))
    graph.edges.append(Edge(START, flow.start))
    actions: set[str] = set()
    for step in flow.steps.values():
        text = getattr(step.options, "text", None)
        shape = "end" if step.kind == "end" else "step"
        graph.nodes.append(Node(step.id, f"{step.id} · {step.kind}", short(text or ""), shape))
        for edge in _edges(step):
            graph.edges.append(edge)
            if edge.target in ACTIONS:
                actions.add(edge.target)
        if step.kind == "handoff":
            _handoff(graph, step)
    graph.nodes += [Node(a, a, _ACTION_TEXT.get(a, ""), "action") for a in sorted(actions)]
    return graph


_ACTION_TEXT = {
    "@human": "a person takes over",
    "@cancel": "answers deleted",
    "@restart": "start again",
}


def _edges(step: Step) -> Iterator[Edge]:
    if type(step).waits and step.targets():
        yield Edge(step.id, step.id, "invalid")
    choices = getattr(step, "choices", None)
    if callable(choices):
        for choice in choices():
            yield Edge(step.id, choice.next, short(choice.label, 28))
        return
    cases = getattr(step.options, "cases", None)
    for case in cases or ():
        yield Edge(step.id, case.next, short(_condition(case), 32))
    for name, target in step.targets():
        if cases and name == "next":
            continue  # a case's own ``next``, drawn above
        if step.kind == "handoff" and name == "done":
            continue  # drawn through the web page
        yield Edge(step.id, target, FIELD_LABELS.get(name, NEXT_LABELS.get(step.kind, "")))


def _condition(case: Any) -> str:
    if case.op in ("set", "unset"):
        return f"{case.answer} {'is set' if case.op == 'set' else 'is not set'}"
    value = ", ".join(case.value) if isinstance(case.value, list) else case.value
    return f"{case.answer} {'=' if case.op == 'equals' else 'in'} {value}"


def _handoff(graph: FlowGraph, step: Step) -> None:
    page = f"{step.id}__page"
    button = getattr(step.options, "button", "")
    graph.nodes.append(Node(page, "web page", "one-time link", "page"))
    graph.edges.append(Edge(step.id, page, short(f"link: {button}", 32), dashed=True))
    done = getattr(step.options, "done", None)
    if done:
        graph.edges.append(Edge(page, done, "done"))
