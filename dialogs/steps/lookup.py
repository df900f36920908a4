"""Look-up against the CRM records: one answer for every mismatch, so nothing is enumerated."""

from __future__ import annotations

from dialogs.steps.base import Step, StepOptions, Target, register
from dialogs.turn import Turn


@register
class CrmMatch(Step):
    kind = "crm_match"
    waits = False

    class Options(StepOptions):
        scheme: str
        tax_id: str  # answer keys
        email: str | None = None
        phone: str | None = None
        require: tuple[str, ...] = ()  # customer flags that must be true
        found: Target
        not_found: Target

    options: Options

    async def enter(self, turn: Turn) -> str | None:
        o, answers = self.options, turn.state.answers
        match = await turn.records.match_customer(
            tax_scheme=o.scheme,
            tax_id=answers.get(o.tax_id, ""),
            email=answers.get(o.email) if o.email else None,
            phone=answers.get(o.phone) if o.phone else None,
        )
        if match is None or not all(match.flags.get(flag) for flag in o.require):
            turn.state.customer_id = None
            return o.not_found
        turn.state.customer_id = match.customer_id
        answers["customer_name"] = match.name
        return o.found
