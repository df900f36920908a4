"""``onboard funnel``: per flow and step, how many customers reached it, moved on, were asked
again and went silent there, from the step events in SQL (storage/funnel.py).

* **reached** — customers who entered the step;
* **moved on** — of those, who later entered another step of the flow or ended it (an end
  step counts as moved on once reached; ``/cancel`` is no moving on);
* **re-asked** — customers whose answer the step refused at least once (invalid input);
* **abandoned** — customers whose last event in the flow is at this step, who did not end or
  cancel the flow, and who have been silent longer than ``FUNNEL_ABANDONED_HOURS``.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from dialogs.turn import MarkKind
from storage.funnel import FunnelEvent

CANCELLED = "cancelled"
_SINCE = re.compile(r"(\d+)\s*([mhdw])")
_UNIT = {"m": 60, "h": 3600, "d": 86_400, "w": 604_800}


def parse_since(text: str) -> float:
    """``30m``, ``12h``, ``7d``, ``2w`` in seconds."""
    match = _SINCE.fullmatch(text.strip().lower())
    if match is None:
        raise ValueError(f"expected a duration such as 30m, 12h, 7d or 2w, got {text!r}")
    return int(match[1]) * _UNIT[match[2]]


@dataclass(slots=True)
class StepFunnel:
    step: str
    reached: int = 0
    moved_on: int = 0
    re_asked: int = 0
    abandoned: int = 0


@dataclass(slots=True)
class FlowFunnel:
    flow: str
    steps: list[StepFunnel] = field(default_factory=list)
    customers: int = 0
    finished: dict[str, int] = field(default_factory=dict)  # end step (or cancelled) -> count


def build_funnels(
    events: Iterable[FunnelEvent],
    step_order: Mapping[str, Sequence[str]],
    *,
    now: float,
    abandoned_after: float,
) -> list[FlowFunnel]:
    """The funnels of the flows in ``events``; steps in the flow file's order (``step_order``),
    steps the file no longer has after them. Flows without events are left out."""
    by_flow: dict[str, list[FunnelEvent]] = defaultdict(list)
    for event in events:
        by_flow[event.flow].append(event)
    return [
        _flow_funnel(flow, by_flow[flow], step_order.get(flow, ()), now - abandoned_after)
        for flow in sorted(by_flow)
    ]


def _flow_funnel(
    flow: str, events: list[FunnelEvent], order: Sequence[str], silent_before: float
) -> FlowFunnel:
    reached: dict[str, set[str]] = defaultdict(set)
    moved: dict[str, set[str]] = defaultdict(set)
    re_asked: dict[str, set[str]] = defaultdict(set)
    finished: dict[str, int] = defaultdict(int)
    open_steps: dict[str, set[str]] = defaultdict(set)  # customer -> steps not yet left
    last: dict[str, FunnelEvent] = {}
    for event in events:
        who = event.customer
        if event.kind == MarkKind.ENTERED:
            for step in open_steps[who] - {event.step}:
                moved[step].add(who)
            open_steps[who] = {event.step}
            reached[event.step].add(who)
        elif event.kind == MarkKind.INVALID:
            re_asked[event.step].add(who)
        elif event.kind == MarkKind.FINISHED:
            if event.outcome != CANCELLED:  # stopping is no moving on
                for step in open_steps[who]:
                    moved[step].add(who)
            open_steps[who] = set()
            finished[event.outcome or event.step] += 1
        last[who] = event
    abandoned: dict[str, int] = defaultdict(int)
    for event in last.values():
        if event.kind != MarkKind.FINISHED and event.at < silent_before:
            abandoned[event.step] += 1
    known = [step for step in order if step in reached or step in re_asked]
    extra = sorted((set(reached) | set(re_asked)) - set(order))
    steps = [
        StepFunnel(s, len(reached[s]), len(moved[s]), len(re_asked[s]), abandoned[s])
        for s in [*known, *extra]
    ]
    return FlowFunnel(flow, steps, len(last), dict(finished))


def table(funnels: Sequence[FlowFunnel]) -> str:
    """The funnels as a text table (``--format table``)."""
    if not funnels:
        return "no step events in that period\n"
    lines: list[str] = []
    for funnel in funnels:
        ends = ", ".join(f"{end} {count}" for end, count in sorted(funnel.finished.items()))
        lines.append(f"{funnel.flow}: {funnel.customers} customers; ended: {ends or 'none'}")
        width = max(len("step"), *(len(step.step) for step in funnel.steps))
        lines.append(f"  {'step':<{width}}  reached  moved on  re-asked  abandoned")
        for s in funnel.steps:
            lines.append(
                f"  {s.step:<{width}}  {s.reached:>7}  {s.moved_on:>8}  {s.re_asked:>8}"
                f"  {s.abandoned:>9}"
            )
        lines.append("")
    return "\n".join(lines)
