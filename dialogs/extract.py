"""Babel extraction method for flow files, so translators see flow texts in ``messages.pot``.

Use it in ``babel.cfg`` as ``[dialogs.extract:extract_flow: dialogs/flows/**.yaml]``.
Each message gets the flow and step as its location and a translator comment saying where the
text appears and which placeholders it holds.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping
from pathlib import Path
from typing import IO, Any

import yaml

from dialogs.flow import load_flow
from dialogs.render import placeholders

Extracted = tuple[int, str | None, str, list[str]]


def _step_lines(source: str) -> dict[str, int]:
    root = yaml.compose(source)
    lines: dict[str, int] = {}
    if not isinstance(root, yaml.MappingNode):
        return lines
    for key, value in root.value:
        if key.value == "steps" and isinstance(value, yaml.MappingNode):
            lines = {k.value: k.start_mark.line + 1 for k, _ in value.value}
    return lines


def extract_flow(
    fileobj: IO[bytes],
    keywords: Collection[str],
    comment_tags: Collection[str],
    options: Mapping[str, Any],
) -> Iterator[Extracted]:
    source = fileobj.read().decode("utf-8")
    path = Path(getattr(fileobj, "name", "flow.yaml"))
    flow = load_flow(path)
    lines = _step_lines(source)
    yield 1, None, flow.title, [f"flow {flow.id}: title, shown on the flow's start button"]
    for step_id, step in flow.steps.items():
        for message in step.messages():
            names = ", ".join(f"{{{p}}}" for p in sorted(placeholders(message)))
            note = f"flow {flow.id}, step {step_id} ({step.kind})"
            if names:
                note += f"; placeholders: {names} (keep them as they are)"
            yield lines.get(step_id, 1), None, message, [note]
