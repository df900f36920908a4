"""Runs a turn's effects after its state is committed.

Mails and SMS go to the :class:`~bot.outbox.Outbox` (sent in the background, retried), which
first takes a slot of the cap on sends per address from the shared :class:`SendLimiter` —
across all conversations and workers, off the update's path: the reply never waits for it,
and an update that sends nothing never touches it.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
from collections.abc import Sequence
from typing import Protocol

from bot.outbox import DEFAULT_RETRY_DELAYS, DELIVERY_FAILED, Cap, Journal, Outbox
from bot.support.desk import SupportDesk
from bot.support.effects import run_ticket_effect
from dialogs.effects import (
    Effect,
    RecordConsent,
    RecordHuman,
    SaveProfile,
    SendOutgoing,
    StoreToken,
    TicketEffect,
)
from dialogs.ports import (
    Clock,
    ConsentRecorder,
    ConversationOutgoing,
    Delivery,
    Outgoing,
    RequestRecorder,
    SendLimiter,
    TokenStore,
)
from dialogs.replies import Reply, Text
from dialogs.steps.profile import USERNAME_LOST

__all__ = ["DELIVERY_FAILED", "EffectRunner", "send_subject"]

log = logging.getLogger(__name__)


def send_subject(secret: bytes, message: Outgoing) -> str:
    """Who the cap counts: a keyed hash of the channel and the normalised address (the
    address itself is not written to Redis or the database)."""
    address = message.to.strip().lower()
    return hmac.new(secret, f"{message.channel}|{address}".encode(), hashlib.sha256).hexdigest()


class ProfileRecorder(Protocol):
    async def save_profile(self, profile: SaveProfile) -> bool:
        """Store the profile; False if its user name was taken by someone else meanwhile."""
        ...


class EffectRunner:
    def __init__(
        self,
        delivery: Delivery,
        records: RequestRecorder,
        tokens: TokenStore,
        *,
        limiter: SendLimiter | None = None,
        secret: bytes = b"",
        clock: Clock = time.time,
        retry_delays: Sequence[float] = DEFAULT_RETRY_DELAYS,
        journal: Journal | None = None,
        consents: ConsentRecorder | None = None,
        support: SupportDesk | None = None,
        profiles: ProfileRecorder | None = None,
    ) -> None:
        self.profiles = profiles
        self.consents = consents
        self.support = support
        self.delivery = delivery
        self.records = records
        self.tokens = tokens
        self.limiter = limiter
        self.secret = secret
        self.clock = clock
        self.outbox = Outbox(
            delivery, retry_delays=retry_delays, journal=journal, clock=clock, limiter=limiter
        )

    async def run(self, effects: tuple[Effect, ...]) -> list[Reply]:
        """Run each effect; return replies that tell the customer what could not be done."""
        notices: list[Reply] = []
        for effect in effects:
            if isinstance(effect, TicketEffect):
                ticket_notice = await run_ticket_effect(self.support, effect)
                notices += [ticket_notice] if ticket_notice is not None else []
                continue
            if isinstance(effect, SendOutgoing):
                self._send(effect.message)
            elif isinstance(effect, StoreToken):
                await self.tokens.store_token(
                    token_hash=effect.token_hash,
                    purpose=effect.purpose,
                    key=effect.key,
                    customer_id=effect.customer_id,
                    locale=effect.locale,
                    expires_at=effect.expires_at,
                )
            elif isinstance(effect, RecordHuman):
                number = await self.records.record_human_request(effect.request)
                log.info("human request %s recorded for %s", number, effect.request.key)
                if self.support is not None:
                    await self.support.open_request(effect.request, number)
            elif isinstance(effect, RecordConsent):
                if self.consents is None:
                    raise RuntimeError("a flow records consents but no consent store is wired")
                await self.consents.record_consent(effect.customer_id, effect.kind, effect.given_at)
            elif isinstance(effect, SaveProfile):
                if self.profiles is None:
                    raise RuntimeError("a flow saves profiles but no profile store is wired")
                if not await self.profiles.save_profile(effect):
                    notices.append(Reply(Text(USERNAME_LOST, {"username": effect.username})))
        return notices

    def _send(self, message: Outgoing) -> None:
        """Hand the message to the outbox with its slot in the address's cap to take (a
        refusal or a failure is told to the customer from there, later)."""
        routed = message if isinstance(message, ConversationOutgoing) else None
        cap = Cap(
            send_subject(self.secret, message),
            limit=routed.max_sends if routed else 5,
            window=routed.send_window if routed else 600,
        )
        self.outbox.submit(message, routed.key if routed else None, cap)

    async def close(self) -> None:
        await self.outbox.close()
        if self.limiter is not None:
            await self.limiter.close()
