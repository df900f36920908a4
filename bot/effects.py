"""Runs a turn's effects after its state is committed.

Mails and SMS go to the :class:`~bot.outbox.Outbox` (sent in the background, retried). Before
that, the cap on sends per address is taken from the shared :class:`SendLimiter` — across all
conversations and workers, and only for turns that send something, so an update that sends
nothing costs no extra round trip.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
from collections.abc import Sequence

from bot.outbox import DEFAULT_RETRY_DELAYS, DELIVERY_FAILED, Outbox
from dialogs.effects import Effect, RecordConsent, RecordHuman, SendOutgoing, StoreToken
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
from dialogs.replies import Reply, say
from dialogs.steps.code import TOO_MANY
from storage.limits import minutes_until

__all__ = ["DELIVERY_FAILED", "EffectRunner", "send_subject"]

log = logging.getLogger(__name__)


def send_subject(secret: bytes, message: Outgoing) -> str:
    """Who the cap counts: a keyed hash of the channel and the normalised address (the
    address itself is not written to Redis or the database)."""
    address = message.to.strip().lower()
    return hmac.new(secret, f"{message.channel}|{address}".encode(), hashlib.sha256).hexdigest()


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
        consents: ConsentRecorder | None = None,
    ) -> None:
        self.consents = consents
        self.delivery = delivery
        self.records = records
        self.tokens = tokens
        self.limiter = limiter
        self.secret = secret
        self.clock = clock
        self.outbox = Outbox(delivery, retry_delays=retry_delays)

    async def run(self, effects: tuple[Effect, ...]) -> list[Reply]:
        """Run each effect; return replies that tell the customer what could not be done."""
        notices: list[Reply] = []
        for effect in effects:
            if isinstance(effect, SendOutgoing):
                notice = await self._send(effect.message)
                if notice is not None:
                    notices.append(notice)
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
            elif isinstance(effect, RecordConsent):
                if self.consents is None:
                    raise RuntimeError("a flow records consents but no consent store is wired")
                await self.consents.record_consent(effect.customer_id, effect.kind, effect.given_at)
        return notices

    async def _send(self, message: Outgoing) -> Reply | None:
        """Take a slot of the address's cap, then hand the message to the outbox."""
        routed = message if isinstance(message, ConversationOutgoing) else None
        if self.limiter is not None:
            wait = await self.limiter.acquire(
                send_subject(self.secret, message),
                now=self.clock(),
                limit=routed.max_sends if routed else 5,
                window=routed.send_window if routed else 600,
            )
            if wait:
                log.info("%s not sent: the address reached its cap", message.channel)
                return Reply(say(TOO_MANY, minutes=minutes_until(wait)))
        self.outbox.submit(message, routed.key if routed else None)
        return None

    async def close(self) -> None:
        await self.outbox.close()
        if self.limiter is not None:
            await self.limiter.close()
