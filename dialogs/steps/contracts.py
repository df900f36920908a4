"""Look-ups of contracts and consents (seeds 001 and 002), and the declaration record.

Every mismatch leads to the same ``not_found`` target: an answer never says which part of what
the customer typed was wrong. The steps reach the CRM through ``turn.contracts``.
"""

from __future__ import annotations

from dialogs.effects import RecordConsent
from dialogs.errors import ConfigError
from dialogs.ports import ContractLookup
from dialogs.steps.base import Message, Step, StepOptions, Target, register, wired
from dialogs.turn import Turn


def contract_lookup(turn: Turn, step_id: str) -> ContractLookup:
    return wired(turn.contracts, step_id, "the contract records")


@register
class PolicyMatch(Step):
    """Seed 001: the contract by policy number and e-mail; only its policyholder goes on."""

    kind = "policy_match"
    waits = False

    class Options(StepOptions):
        number: str  # answer keys
        email: str
        holder: Target
        not_holder: Target
        not_found: Target

    options: Options

    async def enter(self, turn: Turn) -> str | None:
        o, answers = self.options, turn.state.answers
        match = await contract_lookup(turn, self.id).match_policy(
            number=answers.get(o.number, ""), email=answers.get(o.email, "")
        )
        turn.state.customer_id = None
        if match is None:
            return o.not_found
        if not match.holder:
            return o.not_holder
        turn.state.customer_id = match.customer_id
        answers["customer_name"] = match.name
        return o.holder


@register
class ContactMatch(Step):
    """Seed 002: e-mail and phone. A policy bought online with both means the personal cabinet
    already exists (``online``); else the customer must have both on record (``found``)."""

    kind = "contact_match"
    waits = False

    class Options(StepOptions):
        email: str  # answer keys
        phone: str
        online: Target
        found: Target
        not_found: Target

    options: Options

    async def enter(self, turn: Turn) -> str | None:
        o, answers = self.options, turn.state.answers
        contracts = contract_lookup(turn, self.id)
        email, phone = answers.get(o.email, ""), answers.get(o.phone, "")
        turn.state.customer_id = None
        turn.state.codes.clear()  # a code sent for earlier details (e.g. before /back) is void
        if await contracts.bought_online(email=email, phone=phone):
            return o.online
        match = await contracts.match_contact(email=email, phone=phone)
        if match is None:
            return o.not_found
        turn.state.customer_id = match.customer_id
        answers["customer_name"] = match.name
        return o.found


@register
class ConsentCheck(Step):
    """Go to ``given`` when the matched customer already gave the declaration ``consent``."""

    kind = "consent_check"
    waits = False

    class Options(StepOptions):
        consent: str
        given: Target
        missing: Target

    options: Options

    async def enter(self, turn: Turn) -> str | None:
        customer = turn.state.customer_id
        if customer is None:
            return self.options.missing
        given = await contract_lookup(turn, self.id).has_consent(customer, self.options.consent)
        return self.options.given if given else self.options.missing


@register
class ConsentRecord(Step):
    """Record the declaration ``consent`` for the matched customer (after the turn commits)."""

    kind = "consent_record"
    waits = False

    class Options(StepOptions):
        consent: str
        text: Message | None = None
        next: Target

    options: Options

    async def enter(self, turn: Turn) -> str | None:
        customer = turn.state.customer_id
        if customer is None:
            raise ConfigError(f"step {self.id!r} records a declaration but no customer matched")
        turn.effects.append(RecordConsent(customer, self.options.consent, turn.now))
        if self.options.text:
            turn.say(turn.text(self.options.text))
        return self.options.next
