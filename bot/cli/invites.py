"""``onboard invite`` and ``onboard guest-code``: what the provider's team hands out.

An invitation is a one-time deep link ``https://t.me/<BOT_USERNAME>?start=<token>`` to a flow
that starts with an ``invitation`` step; only the token's SHA-256 is stored. It may name the
CRM customer (by tax number or by contract) and the product edition; without ``--edition`` the
contract's edition in the CRM applies. A guest code opens one session for a guest or patient,
who never registers (seed 003).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime

from bot.config import Settings
from bot.web.links import issue_invitation
from dialogs.errors import ConfigError
from dialogs.flow import Flow, FlowRegistry
from dialogs.i18n import SUPPORTED_LOCALES
from dialogs.steps.editions import Editions
from dialogs.steps.link import InvitationGate
from storage.db import create_engine, migrate
from storage.invitations import SqlInvitations
from storage.profiles import SqlGuestCodes

DAY = 86_400


@dataclass(frozen=True, slots=True)
class InviteRequest:
    flow: str
    customer: str | None = None  # SCHEME:TAX_ID
    contract: str | None = None
    edition: str | None = None
    locale: str | None = None
    days: int | None = None


def _flow(flow_id: str) -> Flow:
    flow = FlowRegistry.from_directory().get(flow_id)
    if flow is None:
        known = ", ".join(flow.id for flow in FlowRegistry.from_directory())
        raise ConfigError(f"no flow {flow_id!r}: use one of {known}")
    if not any(isinstance(step, InvitationGate) for step in flow.steps.values()):
        raise ConfigError(f"flow {flow_id!r} has no invitation step: it needs no invitation")
    return flow


def _editions(flow: Flow) -> set[str]:
    return {
        name
        for step in flow.steps.values()
        if isinstance(step, Editions)
        for name in step.options.editions
    }


async def _customer(invitations: SqlInvitations, reference: str | None) -> int | None:
    if reference is None:
        return None
    scheme, _, tax_id = reference.partition(":")
    customer = await invitations.customer_by_tax_id(scheme, tax_id)
    if customer is None:
        raise ConfigError(f"no CRM customer {reference!r} (write it as SCHEME:TAX_ID)")
    return customer


async def _contract(
    invitations: SqlInvitations, number: str, customer: int | None
) -> tuple[int, str | None]:
    found = await invitations.contracts_by_number(number)
    matching = [row for row in found if customer is None or row[0] == customer]
    if not matching:
        raise ConfigError(f"no CRM contract {number!r}" + (" of that customer" if customer else ""))
    if len({row[0] for row in matching}) > 1:
        raise ConfigError(f"contract {number!r} belongs to several customers: add --customer")
    return matching[0]


async def invite(settings: Settings, request: InviteRequest) -> int:
    flow = _flow(request.flow)
    editions = _editions(flow)
    locale = request.locale or flow.language
    if locale not in SUPPORTED_LOCALES:
        raise ConfigError(f"unknown language {locale!r}: use one of {', '.join(SUPPORTED_LOCALES)}")
    days = request.days or settings.invitation_ttl_days
    db = create_engine(settings.database_url, settings.pooling)
    try:
        await migrate(db)
        invitations = SqlInvitations(db)
        customer = await _customer(invitations, request.customer)
        edition = request.edition
        if request.contract is not None:
            customer, contracted = await _contract(invitations, request.contract, customer)
            edition = edition or (contracted if contracted in editions else None)
        if edition is not None and edition not in editions:
            known = ", ".join(sorted(editions)) or "none"
            raise ConfigError(f"flow {flow.id!r} has no edition {edition!r} (editions: {known})")
        now = time.time()
        token = await issue_invitation(
            invitations,
            flow=flow.id,
            customer_id=customer,
            locale=locale,
            now=now,
            ttl_seconds=days * DAY,
            edition=edition,
        )
    finally:
        await db.dispose()
    until = datetime.fromtimestamp(now + days * DAY, UTC).strftime("%Y-%m-%d %H:%M UTC")
    username = (settings.bot_username or "").lstrip("@")
    print(f"https://t.me/{username or '<BOT_USERNAME>'}?start={token}")
    print(f"single use, valid until {until}; edition: {edition or 'from the CRM or the default'}")
    if not username:
        print(
            "BOT_USERNAME is not set: put your bot's @username in the link, or send "
            f"/start {token} to the bot (in the terminal chat: onboard chat, then that line)"
        )
    return 0


async def guest_code(settings: Settings, *, session: str, join_url: str, hours: int) -> int:
    if not join_url.startswith("https://"):
        raise ConfigError("the join URL must start with https://")
    db = create_engine(settings.database_url, settings.pooling)
    try:
        await migrate(db)
        code = await SqlGuestCodes(db).issue_access_code(
            session=session, join_url=join_url, now=time.time(), ttl_seconds=hours * 3600
        )
    finally:
        await db.dispose()
    print(code)
    print(f"for {session}; valid {hours} hours; the guest sends it to the bot (de-video-guest)")
    return 0
