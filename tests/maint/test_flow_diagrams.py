"""Flow diagrams: what they show, that SVG needs nothing outside Python, that committed ones
are not stale."""

from __future__ import annotations

import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

from bot.maint.flow_docs import BEGIN, END, stale_docs, write_docs
from bot.maint.flow_graph import flow_graph
from bot.maint.mermaid import to_mermaid
from bot.maint.svg import to_svg
from dialogs.flow import FlowRegistry, load_flow
from tests.maint.conftest import REPO

SVG = "{http://www.w3.org/2000/svg}"
OTHER_KINDS = """id: kinds
language: de
title: "All kinds"
start: consent
steps:
  consent:
    kind: consent
    text: "Do you agree?"
    accept: route
    decline: "@cancel"
  route:
    kind: branch
    cases:
      - answer: consent
        value: "yes"
        next: done
    default: done
  done:
    kind: end
    text: "Done."
"""


def bg_flow_text() -> str:
    flow = FlowRegistry.from_directory().get("bg-subscription-portal")
    assert flow is not None
    return to_mermaid(flow_graph(flow))


def test_mermaid_shows_steps_branches_loops_handoff_and_actions() -> None:
    text = bg_flow_text()
    assert text.startswith("flowchart TD\n")
    assert 'n_eik["<b>eik · ask</b><br/>Step 1 of 3. Please enter' in text
    assert 'n_eik -->|"invalid"| n_eik' in text  # the error loop of a step that re-asks
    assert 'n_match -->|"found"| n_code' in text
    assert 'n_match -->|"not found"| n_no_match' in text
    assert 'n_no_match -->|"Enter the details again"| n_eik' in text
    assert 'n_no_match -->|"Talk to a person"| n_human_action' in text
    assert 'n_code -->|"change"| n_email' in text
    assert 'n_password -.->|"link: Create my password"| n_password__page' in text
    assert 'n_password__page -->|"done"| n_finished' in text
    assert 'n_human_action{{"<b>@human</b>' in text


def test_consent_branch_and_cancel_are_drawn(tmp_path: Path) -> None:
    path = tmp_path / "kinds.yaml"
    path.write_text(OTHER_KINDS, encoding="utf-8")
    text = to_mermaid(flow_graph(load_flow(path)))
    assert 'n_consent -->|"Yes"| n_route' in text
    assert 'n_consent -->|"No"| n_cancel_action' in text
    assert 'n_route -->|"consent = yes"| n_done' in text
    assert 'n_route -->|"otherwise"| n_done' in text
    assert 'n_cancel_action{{"<b>@cancel</b>' in text


def test_svg_is_standalone_and_has_every_node_and_edge() -> None:
    for flow in FlowRegistry.from_directory():
        graph = flow_graph(flow)
        root = ET.fromstring(to_svg(graph))  # noqa: S314 - our own output
        assert root.tag == f"{SVG}svg"
        nodes = root.findall(f".//{SVG}g[@class]")
        assert sum(g.get("class", "").startswith("node") for g in nodes) == len(graph.nodes)
        assert sum(g.get("class") == "edge" for g in nodes) == len(graph.edges)
        texts = {t.text for t in root.iter(f"{SVG}text")}
        assert {node.title for node in graph.nodes} <= texts
        assert "invalid" in texts


def test_cli_draws_svg_and_mermaid(tmp_path: Path) -> None:
    out = tmp_path / "bg.svg"
    command = [sys.executable, "-m", "bot.cli.main", "flows", "draw", "bg-subscription-portal"]
    svg = subprocess.run(
        [*command, "--format", "svg", "-o", str(out)],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
        check=False,
    )
    assert svg.returncode == 0, svg.stderr
    assert out.read_text(encoding="utf-8").startswith("<svg")
    mermaid = subprocess.run(
        command, capture_output=True, text=True, cwd=REPO, timeout=120, check=False
    )
    assert mermaid.stdout == bg_flow_text()


def test_committed_diagrams_match_the_flow_files() -> None:
    """Fails when a flow file changed and `onboard flows docs` was not run."""
    assert stale_docs(REPO, FlowRegistry.from_directory()) == []


def test_a_stale_diagram_is_found_and_regenerated(tmp_path: Path) -> None:
    shutil.copytree(REPO / "docs" / "flows", tmp_path / "docs" / "flows")
    shutil.copy(REPO / "README.md", tmp_path / "README.md")
    flows = tmp_path / "flows"
    shutil.copytree(REPO / "dialogs" / "flows", flows)
    bg = flows / "bg-subscription-portal.yaml"
    bg.write_text(bg.read_text(encoding="utf-8").replace("next: email", "next: match", 1))
    (flows / "kinds.yaml").write_text(OTHER_KINDS, encoding="utf-8")
    registry = FlowRegistry.from_directory(flows)
    stale = stale_docs(tmp_path, registry)
    assert "docs/flows/bg-subscription-portal.md is stale" in stale
    assert "docs/flows/kinds.md is stale" in stale
    assert any(s.startswith("README.md") for s in stale)
    write_docs(tmp_path, registry)
    assert stale_docs(tmp_path, registry) == []
    readme = (tmp_path / "README.md").read_text(encoding="utf-8")
    block = readme[readme.index(BEGIN) : readme.index(END)]
    assert block.count("```mermaid") == len(registry)  # one per flow, however many there are
