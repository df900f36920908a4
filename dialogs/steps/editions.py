"""Product editions (seed 003: "the order of the steps may differ by edition, and steps may be
left out"): one ``editions`` step holds, per edition, the sequence of the flow's parts.

Each part is a step whose way out (``next``, ``done``, ``accept`` ...) leads back to the
``editions`` step, which then enters the edition's next part; after the last one it goes to
``done``. A part may span several steps (e.g. 2FA: consent → phone → code); its first step is
the one named in the sequence. The edition is chosen once, when the first part starts: the
invitation's edition, else the edition of the customer's contract in the CRM, else ``default``.

Where the customer is, is read from the ``/back`` history (the newest part in it), so going
back and answering again continues with the right part. Steps before the first part (the
invitation gate) are dropped from the history: ``/back`` never returns to them.
"""

from __future__ import annotations

from typing import Self

from pydantic import Field, model_validator

from dialogs.steps.base import Step, StepOptions, register
from dialogs.steps.basic import Choice
from dialogs.turn import Turn

EDITION_ANSWER = "edition"


@register
class Editions(Step):
    kind = "editions"
    waits = False

    class Options(StepOptions):
        editions: dict[str, list[str]] = Field(min_length=1)
        default: str
        done: str

        @model_validator(mode="after")
        def _consistent(self) -> Self:
            if self.default not in self.editions:
                known = ", ".join(sorted(self.editions))
                raise ValueError(f"default edition {self.default!r} is not one of: {known}")
            for name, parts in self.editions.items():
                if not parts:
                    raise ValueError(f"edition {name!r} has no steps")
                twice = sorted({part for part in parts if parts.count(part) > 1})
                if twice:
                    raise ValueError(f"edition {name!r} lists {', '.join(twice)} twice")
            return self

    options: Options

    def targets(self) -> list[tuple[str, str]]:
        """Every part of every edition, and ``done``: the loader checks each names a step."""
        pairs = [
            (f"edition {name!r}", part)
            for name, parts in self.options.editions.items()
            for part in parts
        ]
        return [*pairs, ("done", self.options.done)]

    def choices(self) -> list[Choice]:
        """For diagrams: one edge per target, labelled with each edition's position."""
        labels: dict[str, list[str]] = {}
        for name, parts in self.options.editions.items():
            for position, part in enumerate(parts, start=1):
                labels.setdefault(part, []).append(f"{name} {position}")
            labels.setdefault(self.options.done, []).append(f"{name} done")
        return [Choice(label=", ".join(v), value=k, next=k) for k, v in labels.items()]

    async def enter(self, turn: Turn) -> str | None:
        parts = self.options.editions[await self._edition(turn)]
        current = next((s for s in reversed(turn.state.history) if s in parts), None)
        if current is None:
            turn.state.history.clear()  # /back never leads back before the first part
            return parts[0]
        following = parts.index(current) + 1
        return parts[following] if following < len(parts) else self.options.done

    async def _edition(self, turn: Turn) -> str:
        answers = turn.state.answers
        chosen = answers.get(EDITION_ANSWER)
        if chosen in self.options.editions:
            return chosen
        chosen = await self._invited(turn) or await self._contracted(turn) or self.options.default
        answers[EDITION_ANSWER] = chosen
        return chosen

    async def _invited(self, turn: Turn) -> str | None:
        profiles = turn.services.profiles
        edition = None if profiles is None else await profiles.invited_edition(turn.key)
        return edition if edition in self.options.editions else None

    async def _contracted(self, turn: Turn) -> str | None:
        contracts, customer = turn.contracts, turn.state.customer_id
        if contracts is None or customer is None:
            return None
        for contract in await contracts.contracts_of(customer):
            if contract.active and contract.edition in self.options.editions:
                return contract.edition
        return None
