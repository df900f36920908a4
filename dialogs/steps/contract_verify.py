"""Contract steps: verify a contract by number and device, then list the customer's contracts.

``contract_match`` (seed 004) asks the CRM, through ``turn.contracts``, for the *active*
contract of the taxpayer with this number that carries this device (a serial number, or a
licence key with its dashes): all three must sit on one contract. Every mismatch — unknown
number, a device of another contract or of another taxpayer, an inactive contract — is the same
``not_found``, so an answer never says which part was wrong. After ``max_failures`` mismatches in
one conversation the flow goes to ``too_many`` instead (guessing is not an option).

``contract_list`` shows the contracts of the customer the flow identified, one message per
contract (number, product, active or inactive, device lines). CRM text only ever travels as
``{placeholder}`` values, which the renderer escapes.
"""

from __future__ import annotations

from pydantic import Field

from dialogs.i18n import N_, NN_
from dialogs.ports import ContractInfo
from dialogs.replies import Text, say, say_n
from dialogs.steps.base import Message, Step, StepOptions, Target, register
from dialogs.steps.contracts import contract_lookup
from dialogs.turn import Turn

ACTIVE_CONTRACT = N_("Contract <b>{number}</b>: {product}, active.\nDevices:\n{devices}")
INACTIVE_CONTRACT = N_("Contract <b>{number}</b>: {product}, inactive.\nDevices:\n{devices}")
NO_DEVICES = N_("(no devices on this contract)")
NO_CONTRACTS = N_("There are no contracts on your account yet.")
MORE_CONTRACTS = NN_(
    "There is {count} more contract on your account.",
    "There are {count} more contracts on your account.",
)
DEVICE_LINE = "• {serial} — {name}"
"""One device line inside ``{devices}``: CRM values and punctuation only, nothing to translate."""


@register
class ContractMatch(Step):
    """Check contract number + device against the CRM for the tax id the flow collected."""

    kind = "contract_match"
    waits = False

    class Options(StepOptions):
        scheme: str
        tax_id: str  # answer keys
        number: str
        serial: str
        save_as: str | None = None  # where the verified contract number goes (default: step id)
        max_failures: int = Field(5, ge=1, le=100)
        found: Target
        not_found: Target
        too_many: Target

    options: Options

    @property
    def failures_key(self) -> str:
        """Kept in ``attempts`` under a name no step has, so entering the step keeps it."""
        return f"{self.id}:mismatches"

    async def enter(self, turn: Turn) -> str | None:
        o, answers = self.options, turn.state.answers
        failures = turn.state.attempts.get(self.failures_key, 0)
        if failures >= o.max_failures:
            return o.too_many
        match = await contract_lookup(turn, self.id).find_contract(
            tax_scheme=o.scheme,
            tax_id=answers.get(o.tax_id, ""),
            number=answers.get(o.number, ""),
            serial=answers.get(o.serial, ""),
        )
        known = turn.state.customer_id
        if match is None or (known is not None and match.customer_id != known):
            turn.state.attempts[self.failures_key] = failures + 1
            return o.too_many if failures + 1 >= o.max_failures else o.not_found
        turn.state.attempts.pop(self.failures_key, None)
        turn.state.customer_id = match.customer_id
        answers[o.save_as or self.id] = match.contract_number
        return o.found


@register
class ContractList(Step):
    """Show the identified customer's contracts, then move on to ``next``."""

    kind = "contract_list"
    waits = False

    class Options(StepOptions):
        text: Message  # the heading, before the contracts
        active: Message = ACTIVE_CONTRACT
        inactive: Message = INACTIVE_CONTRACT
        no_devices: Message = NO_DEVICES
        empty: Message = NO_CONTRACTS
        only_active: bool = False
        limit: int = Field(20, ge=1, le=50)  # one message each: keep the chat readable
        next: Target

    options: Options

    async def enter(self, turn: Turn) -> str | None:
        o = self.options
        contracts: list[ContractInfo] = []
        if turn.state.customer_id is not None:
            contracts = await contract_lookup(turn, self.id).contracts_of(turn.state.customer_id)
        if o.only_active:
            contracts = [contract for contract in contracts if contract.active]
        turn.say(turn.text(o.text))
        if not contracts:
            turn.say(Text(o.empty))
        for contract in contracts[: o.limit]:
            turn.say(self._contract(turn, contract))
        if len(contracts) > o.limit:
            turn.say(say_n(MORE_CONTRACTS, len(contracts) - o.limit))
        return o.next

    def _contract(self, turn: Turn, contract: ContractInfo) -> Text:
        o = self.options
        lines = [DEVICE_LINE.format(serial=d.serial, name=d.name) for d in contract.devices]
        if not lines:
            lines = [turn.services.catalogs.gettext(o.no_devices, turn.locale)]
        template = o.active if contract.active else o.inactive
        return say(
            template, number=contract.number, product=contract.product, devices="\n".join(lines)
        )
