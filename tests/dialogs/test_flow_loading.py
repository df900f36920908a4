"""A broken flow fails at load with the file and the step named."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from dialogs.errors import FlowLoadError
from dialogs.flow import FLOWS_DIR, FlowRegistry, load_flow
from dialogs.i18n import Catalogs

GOOD = """
id: tiny
language: en
title: "Tiny"
start: ask
steps:
  ask:
    kind: ask
    text: "Your name?"
    next: done
  done:
    kind: end
    text: "Bye"
"""


def write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "tiny.yaml"
    path.write_text(textwrap.dedent(body), encoding="utf-8")
    return path


def test_a_good_flow_loads(tmp_path: Path) -> None:
    flow = load_flow(write(tmp_path, GOOD))
    assert list(flow.steps) == ["ask", "done"]
    assert flow.messages() == {"Tiny", "Your name?", "Bye"}


@pytest.mark.parametrize(
    ("change", "step", "words"),
    [
        (("next: done", "next: nowhere"), "ask", "unknown step 'nowhere'"),
        (("kind: ask", "kind: telepathy"), "ask", "unknown step kind 'telepathy'"),
        (('text: "Your name?"', 'text: "Your name?"\n    colour: red'), "ask", "colour"),
        (("kind: ask", "kind: ask\n    validate: horoscope"), "ask", "unknown validator"),
        (("next: done", "next: ask"), "done", "unreachable"),
    ],
)
def test_broken_flows_name_file_and_step(
    tmp_path: Path, change: tuple[str, str], step: str, words: str
) -> None:
    path = write(tmp_path, GOOD.replace(*change, 1))
    with pytest.raises(FlowLoadError) as caught:
        load_flow(path)
    assert caught.value.file == str(path)
    assert caught.value.step == step
    assert words in str(caught.value)


def test_duplicate_step_ids_are_refused(tmp_path: Path) -> None:
    body = GOOD + "  ask:\n    kind: end\n    text: Again\n"
    with pytest.raises(FlowLoadError, match="duplicate key 'ask'"):
        load_flow(write(tmp_path, body))


def test_unknown_message_ids_are_refused(tmp_path: Path) -> None:
    with pytest.raises(FlowLoadError) as caught:
        load_flow(write(tmp_path, GOOD), known_messages={"Tiny", "Bye"})
    assert caught.value.step == "ask"
    assert "Your name?" in str(caught.value)


def test_unknown_start_step(tmp_path: Path) -> None:
    with pytest.raises(FlowLoadError, match="start step 'nope'"):
        load_flow(write(tmp_path, GOOD.replace("start: ask", "start: nope")))


def test_two_flows_with_one_id(tmp_path: Path) -> None:
    write(tmp_path, GOOD)
    (tmp_path / "again.yaml").write_text(textwrap.dedent(GOOD), encoding="utf-8")
    with pytest.raises(FlowLoadError, match="already used"):
        FlowRegistry.from_directory(tmp_path)


def test_shipped_flows_load_against_the_shipped_template() -> None:
    registry = FlowRegistry.from_directory(FLOWS_DIR, Catalogs().template_ids)
    assert "bg-subscription-portal" in {flow.id for flow in registry}
