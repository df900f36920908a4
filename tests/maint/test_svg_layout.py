"""`onboard flows draw … --format svg` lays out so that nothing overlaps (issue 17, item 21):
edge labels crossed each other ("Talk to a person" over "right code", "Be visible" over "Stay
hidden"), node text ran out of its box, "invalid" self-loop labels were clipped.

The SVG is parsed and every text is measured independently of the drawer: 0.6 em per
character (0.65 em bold) — an average sans-serif is narrower — anchored as SVG anchors it.
"""

from __future__ import annotations

import itertools
import xml.etree.ElementTree as ET
from dataclasses import dataclass

import pytest

from bot.maint.flow_graph import flow_graph
from bot.maint.svg import to_svg
from dialogs.flow import FlowRegistry

pytestmark = pytest.mark.stumbles

NS = "{http://www.w3.org/2000/svg}"
FLOWS = {flow.id: flow for flow in FlowRegistry.from_directory()}


@dataclass(frozen=True)
class Box:
    x: float
    y: float
    w: float
    h: float

    def overlaps(self, other: Box) -> bool:
        return (
            self.x < other.x + other.w
            and other.x < self.x + self.w
            and self.y < other.y + other.h
            and other.y < self.y + self.h
        )

    def inside(self, other: Box) -> bool:
        return (
            self.x >= other.x
            and self.y >= other.y
            and self.x + self.w <= other.x + other.w
            and self.y + self.h <= other.y + other.h
        )


def measured(text: ET.Element, size: float, bold: bool = False) -> Box:
    """The box of a middle-anchored text whose baseline is at y."""
    width = len(text.text or "") * size * (0.65 if bold else 0.6)
    x, y = float(text.get("x", 0)), float(text.get("y", 0))
    return Box(x - width / 2, y - size * 0.8, width, size)


def drawing(flow_id: str) -> tuple[Box, list[tuple[str, Box]], list[tuple[Box, list[Box]]]]:
    root = ET.fromstring(to_svg(flow_graph(FLOWS[flow_id])))  # noqa: S314 - our own output
    _, _, width, height = (float(v) for v in root.get("viewBox", "").split())
    labels = [
        (t.text or "", measured(t, float(t.get("font-size", 11))))
        for t in root.iter(f"{NS}text")
        if t.get("class") == "label"
    ]
    nodes = []
    for group in root.iter(f"{NS}g"):
        if not group.get("class", "").startswith("node"):
            continue
        rect = group.find(f"{NS}rect")
        assert rect is not None
        box = Box(*(float(rect.get(k, 0)) for k in ("x", "y", "width", "height")))
        title, text = group.findall(f"{NS}text")
        nodes.append((box, [measured(title, 13, bold=True), measured(text, 11)]))
    return Box(0, 0, width, height), labels, nodes


@pytest.mark.parametrize("flow_id", sorted(FLOWS))
def test_no_two_edge_labels_overlap(flow_id: str) -> None:
    _, labels, _ = drawing(flow_id)
    assert labels
    crossing = [(a, b) for (a, ba), (b, bb) in itertools.combinations(labels, 2) if ba.overlaps(bb)]
    assert crossing == []


@pytest.mark.parametrize("flow_id", sorted(FLOWS))
def test_no_edge_label_lies_on_a_step(flow_id: str) -> None:
    _, labels, nodes = drawing(flow_id)
    assert [text for text, box in labels for node, _ in nodes if box.overlaps(node)] == []


@pytest.mark.parametrize("flow_id", sorted(FLOWS))
def test_node_text_fits_in_its_box(flow_id: str) -> None:
    _, _, nodes = drawing(flow_id)
    assert [(node, text) for node, texts in nodes for text in texts if not text.inside(node)] == []


@pytest.mark.parametrize("flow_id", sorted(FLOWS))
def test_nothing_is_clipped_by_the_canvas(flow_id: str) -> None:
    canvas, labels, nodes = drawing(flow_id)
    assert [text for text, box in labels if not box.inside(canvas)] == []
    assert [node for node, _ in nodes if not node.inside(canvas)] == []


def test_the_de_visibility_choices_and_the_bg_code_branches_are_readable() -> None:
    """The two overlaps the issue names."""
    for flow_id, pair in (
        ("de-video-consultation", ("Be visible", "Stay hidden")),
        ("bg-subscription-portal", ("Talk to a person", "right code")),
    ):
        _, labels, _ = drawing(flow_id)
        found = dict(labels)
        assert set(pair) <= set(found), (flow_id, sorted(found))
        assert not found[pair[0]].overlaps(found[pair[1]])
