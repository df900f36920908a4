"""Flow definitions: YAML files validated when loaded.

A broken flow never reaches a customer: unknown kinds and fields, unknown step targets,
unreachable steps, duplicate ids and message ids missing from the catalog template all fail
with the file and the step named.

Each flow carries its version (a short hash of the file) and each step a revision
(``<flow version>.<hash of the step's kind and options>``): the conversation state records the
revision it waits at, so during a rolling deploy a process with another copy of the file can
tell whether the question the customer is answering is still the same one.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from dialogs.errors import FlowLoadError
from dialogs.steps import STEP_KINDS, Step
from dialogs.steps.base import ACTIONS
from dialogs.validators import VALIDATORS

EXTRACT_HINT = "run `onboard locales extract` and `onboard locales update`"
FLOWS_DIR = Path(__file__).resolve().parent / "flows"


class FlowHeader(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    language: str
    title: str
    start: str
    steps: dict[str, dict[str, Any]]


@dataclass(frozen=True)
class Flow:
    id: str
    language: str
    title: str
    start: str
    steps: dict[str, Step]
    source: str
    version: str = ""
    revisions: Mapping[str, str] = dataclasses.field(default_factory=dict)
    """Step id -> ``<version>.<step hash>`` (see :func:`same_step`)."""

    def messages(self) -> set[str]:
        return {self.title, *(m for step in self.steps.values() for m in step.messages())}


class _UniqueKeyLoader(yaml.SafeLoader):
    """PyYAML silently keeps the last of two equal keys; a flow must not."""


def _construct_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node)
        if key in seen:
            line = key_node.start_mark.line + 1
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r} (line {line})", key_node.start_mark
            )
        seen.add(key)
    return loader.construct_mapping(node)


_UniqueKeyLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
    _construct_mapping,
)


def load_flow(path: Path, known_messages: Collection[str] | None = None) -> Flow:
    """Load and validate one flow file. ``known_messages``: the catalog template's ids."""
    source = str(path)
    try:
        text = path.read_text(encoding="utf-8")
        raw = yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506
        header = FlowHeader.model_validate(raw)
    except yaml.YAMLError as exc:
        raise FlowLoadError(source, f"not valid YAML: {exc}") from exc
    except ValidationError as exc:
        raise FlowLoadError(source, _first_error(exc)) from exc
    steps = {step_id: _build_step(source, step_id, body) for step_id, body in header.steps.items()}
    version = _short_hash(text, 8)
    revisions = {
        step_id: f"{version}.{_short_hash(json.dumps(body, sort_keys=True, default=str), 6)}"
        for step_id, body in header.steps.items()
    }
    flow = Flow(
        header.id, header.language, header.title, header.start, steps, source, version, revisions
    )
    _check_graph(flow)
    if known_messages is not None:
        _check_messages(flow, known_messages)
    return flow


def _short_hash(text: str, length: int) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:length]


def same_step(recorded: str, current: str) -> bool:
    """Whether a conversation that recorded revision ``recorded`` may go on at a step now at
    ``current``: the same file, or another file whose step has the same kind and options.
    A state recorded before revisions were kept (empty) goes on as it always did."""
    if not recorded or recorded == current:
        return True
    return recorded.partition(".")[2] == current.partition(".")[2]


def _first_error(exc: ValidationError) -> str:
    error = exc.errors()[0]
    where = ".".join(str(part) for part in error["loc"])
    return f"{where}: {error['msg']}" if where else str(error["msg"])


def _build_step(source: str, step_id: str, body: dict[str, Any]) -> Step:
    kind = body.get("kind")
    if kind not in STEP_KINDS:
        known = ", ".join(sorted(STEP_KINDS))
        raise FlowLoadError(source, f"unknown step kind {kind!r} (known: {known})", step_id)
    step_class = STEP_KINDS[kind]
    try:
        options = step_class.Options.model_validate(body)
    except ValidationError as exc:
        raise FlowLoadError(source, _first_error(exc), step_id) from exc
    step = step_class(step_id, options)
    validator = getattr(options, "validator", None)
    if validator is not None and validator not in VALIDATORS:
        known = ", ".join(sorted(VALIDATORS))
        problem = f"unknown validator {validator!r} (known: {known})"
        raise FlowLoadError(source, problem, step_id)
    return step


def _check_graph(flow: Flow) -> None:
    if flow.start not in flow.steps:
        raise FlowLoadError(flow.source, f"start step {flow.start!r} does not exist")
    for step in flow.steps.values():
        for field, target in step.targets():
            if target not in flow.steps and target not in ACTIONS:
                problem = f"{field} leads to unknown step {target!r}"
                raise FlowLoadError(flow.source, problem, step.id)
    reachable = _reachable(flow)
    for step_id in flow.steps:
        if step_id not in reachable:
            raise FlowLoadError(flow.source, "unreachable from the start step", step_id)


def _reachable(flow: Flow) -> set[str]:
    seen, todo = {flow.start}, [flow.start]
    while todo:
        for _, target in flow.steps[todo.pop()].targets():
            if target in flow.steps and target not in seen:
                seen.add(target)
                todo.append(target)
    return seen


def _check_messages(flow: Flow, known: Collection[str]) -> None:
    if flow.title not in known:
        raise FlowLoadError(flow.source, f"title is not in the catalog template: {flow.title!r}")
    for step in flow.steps.values():
        for message in step.messages():
            if message not in known:
                problem = f"message not in the catalog template: {message!r} ({EXTRACT_HINT})"
                raise FlowLoadError(flow.source, problem, step.id)


class FlowRegistry:
    """All loaded flows, by id."""

    def __init__(self, flows: Iterable[Flow]) -> None:
        self._flows: dict[str, Flow] = {}
        for flow in flows:
            if flow.id in self._flows:
                other = self._flows[flow.id].source
                raise FlowLoadError(flow.source, f"flow id {flow.id!r} already used by {other}")
            self._flows[flow.id] = flow

    @classmethod
    def from_directory(
        cls, directory: Path = FLOWS_DIR, known_messages: Collection[str] | None = None
    ) -> FlowRegistry:
        return cls(load_flow(path, known_messages) for path in sorted(directory.glob("*.yaml")))

    def get(self, flow_id: str | None) -> Flow | None:
        return self._flows.get(flow_id) if flow_id else None

    def __iter__(self) -> Iterator[Flow]:
        return iter(self._flows.values())

    def __len__(self) -> int:
        return len(self._flows)
