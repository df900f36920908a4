"""Redeeming one-time links at the edge.

* Invitations: the deep link ``t.me/<bot>?start=<token>`` arrives as ``/start <token>``.
  :class:`InvitationEngine` redeems the token (one atomic UPDATE), starts the invitation's flow
  and admits the conversation with the ``invitation:<customer id>`` signal, which the flow's
  ``invitation`` step waits for. Unknown, used and expired links each get their own answer.
* E-mail verification links: ``GET /verify/<token>`` on the web app consumes the token and
  signals the conversation that issued it (the ``email_link`` step), which then continues.
"""

from __future__ import annotations

import dataclasses
import logging
import re
from collections.abc import Awaitable, Callable

from aiohttp import web

from bot.web.pages.layout import Words, message
from dialogs.engine import Engine, Outcome
from dialogs.events import Event, EventKind
from dialogs.flow import FlowRegistry
from dialogs.i18n import N_, Catalogs, negotiate
from dialogs.owed import OwedCodec
from dialogs.ports import Clock, Invitation, StateStore, TurnObserver
from dialogs.replies import Reply, Text
from dialogs.steps.handoff import token_hash
from dialogs.steps.link import VERIFY_PATH, link_signal, new_token
from dialogs.turn import Services
from storage.invitations import SqlInvitations
from storage.records import SqlRecords

log = logging.getLogger(__name__)

TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{32}")
INVITATION_UNKNOWN = N_(
    "We do not recognise this invitation link. Please open the whole link from your "
    "invitation, or send /human and a person will help you."
)
INVITATION_USED = N_(
    "This invitation link has already been used. If that was not you, send /human and a "
    "person will help you."
)
INVITATION_EXPIRED = N_(
    "This invitation link has expired. Please ask the person who invited you for a new one, "
    "or send /human and a person will help you."
)
VERIFY_TITLE = N_("Confirm your e-mail address")
VERIFIED = N_("Thank you. Please return to the chat to continue.")
VERIFY_UNKNOWN = N_(
    "This confirmation link is not valid. Please open the newest link we sent you, or return "
    "to the chat and ask for a new one."
)
VERIFY_USED = N_("This confirmation link has already been used. Please return to the chat.")
VERIFY_EXPIRED = N_(
    "This confirmation link has expired. Please return to the chat and press the button "
    "to get a new one."
)
Signal = Callable[[Event], Awaitable[None]]


async def issue_invitation(
    invitations: SqlInvitations,
    *,
    flow: str,
    customer_id: int | None,
    locale: str,
    now: float,
    ttl_seconds: float = 14 * 86_400,
    edition: str | None = None,
) -> str:
    """Store a new invitation and return its token (for ``t.me/<bot>?start=<token>``).
    ``edition``: the product edition the flow's ``editions`` step follows (seed 003)."""
    token = new_token()
    await invitations.store_invitation(
        token_hash=token_hash(token),
        flow=flow,
        customer_id=customer_id,
        locale=locale,
        now=now,
        expires_at=now + ttl_seconds,
        edition=edition,
    )
    return token


class InvitationEngine(Engine):
    """The engine, plus redemption of ``/start <invitation token>``."""

    def __init__(
        self,
        flows: FlowRegistry,
        store: StateStore,
        services: Services,
        *,
        invitations: SqlInvitations,
        default_flow: str | None = None,
        codec: OwedCodec | None = None,
        observer: TurnObserver | None = None,
    ) -> None:
        super().__init__(
            flows, store, services, default_flow=default_flow, codec=codec, observer=observer
        )
        self.invitations = invitations

    def _token(self, event: Event) -> str | None:
        if event.kind is not EventKind.COMMAND or event.command != "start":
            return None
        payload = event.text.strip()
        if self.flows.get(payload) is not None or not TOKEN_SHAPE.fullmatch(payload):
            return None
        return payload

    async def handle(self, event: Event, *, silent: bool = False) -> Outcome:
        token = self._token(event)
        if token is None:
            return await super().handle(event, silent=silent)
        digest, now = token_hash(token), self.services.clock()
        invitation = await self.invitations.redeem_invitation(digest, by=str(event.key), now=now)
        if invitation is None:
            return await self._refused(event, digest, now)
        return await self._admit(event, invitation)

    async def _admit(self, event: Event, invitation: Invitation) -> Outcome:
        start = dataclasses.replace(event, text=invitation.flow, language_code=invitation.locale)
        started = await super().handle(start, silent=True)  # the admission's replies say it
        if started.duplicate:
            return started
        customer = "" if invitation.customer_id is None else str(invitation.customer_id)
        signal = Event(event.key, EventKind.SIGNAL, text=f"invitation:{customer}")
        admitted = await super().handle(signal)
        return Outcome(
            admitted.replies,
            started.effects + admitted.effects,
            admitted.locale,
            items=started.items + admitted.items,
            lead=started.lead,
        )

    async def _refused(self, event: Event, digest: str, now: float) -> Outcome:
        known = await self.invitations.get_invitation(digest)
        if known is not None and known.used_by == str(event.key):
            return await super().handle(dataclasses.replace(event, text=""))  # resume
        if known is None:
            message = INVITATION_UNKNOWN
        elif known.used_at is not None:
            message = INVITATION_USED
        else:
            message = INVITATION_EXPIRED
        return Outcome((Reply(Text(message)),), (), negotiate(event.language_code))


def _page(catalogs: Catalogs, body: str, locale: str, status: int) -> web.Response:
    """The hand-off pages' layout (stylesheet, favicon), in the token's language."""
    words = Words(catalogs, locale)
    return message(words, VERIFY_TITLE, words(body), status=status)


def verification_page(
    tokens: SqlRecords, catalogs: Catalogs, clock: Clock, signal: Signal
) -> Callable[[web.Request], Awaitable[web.Response]]:
    """``GET /verify/<token>``: consume the token once, then signal its conversation."""

    async def handle(request: web.Request) -> web.Response:
        digest = token_hash(request.match_info["token"])
        now = clock()
        info = await tokens.consume_token(digest, VERIFY_PATH, now)
        if info is not None:
            try:
                opened = link_signal(VERIFY_PATH, digest)
                await signal(Event(info.key, EventKind.SIGNAL, text=opened))
            except Exception:
                log.exception("verification link opened, but %s could not be told", info.key)
            return _page(catalogs, VERIFIED, info.locale, 200)
        known = await tokens.get_token(digest)
        if known is None or known.purpose != VERIFY_PATH:
            locale = negotiate(request.headers.get("Accept-Language"))
            return _page(catalogs, VERIFY_UNKNOWN, locale, 404)
        message = VERIFY_USED if known.used_at is not None else VERIFY_EXPIRED
        return _page(catalogs, message, known.locale, 410)

    return handle


def add_link_routes(
    web_app: web.Application, tokens: SqlRecords, catalogs: Catalogs, clock: Clock, signal: Signal
) -> None:
    web_app.router.add_get(
        f"/{VERIFY_PATH}/{{token}}", verification_page(tokens, catalogs, clock, signal)
    )
