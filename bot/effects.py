"""Runs a committed turn's effects, one owed item at a time (the dispatcher calls
:meth:`EffectRunner.run_one`).

Mails and SMS go through the :class:`~bot.outbox.Courier`, which first takes a slot of the cap
on sends per address from the shared :class:`SendLimiter` — across all conversations and
workers, off the update's path: the reply never waits for it.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from typing import Protocol

from sqlalchemy.exc import IntegrityError

from bot.outbox import DELIVERY_FAILED, Cap, Courier
from bot.privacy import PrivacyOffice
from bot.support.desk import SupportDesk
from bot.support.effects import run_ticket_effect
from dialogs.effects import (
    Effect,
    ExportData,
    ForgetCustomer,
    RecordConsent,
    RecordHuman,
    SaveProfile,
    SendOutgoing,
    StoreToken,
    TicketEffect,
)
from dialogs.ports import (
    ConsentRecorder,
    ConversationOutgoing,
    Outgoing,
    RequestRecorder,
    TokenStore,
)
from dialogs.replies import Reply, Text
from dialogs.steps.profile import USERNAME_LOST

__all__ = ["DELIVERY_FAILED", "EffectRunner", "send_subject"]

log = logging.getLogger(__name__)


def _ref(key: object, item_id: str) -> str:
    """A ticket ref derived from the owed item, so a second run finds the first ticket."""
    return hashlib.sha256(f"{key}|{item_id}".encode()).hexdigest()[:16]


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
        courier: Courier,
        records: RequestRecorder,
        tokens: TokenStore,
        *,
        secret: bytes = b"",
        consents: ConsentRecorder | None = None,
        support: SupportDesk | None = None,
        profiles: ProfileRecorder | None = None,
        privacy: PrivacyOffice | None = None,
    ) -> None:
        self.privacy = privacy
        self.courier = courier
        self.profiles = profiles
        self.consents = consents
        self.support = support
        self.records = records
        self.tokens = tokens
        self.secret = secret

    async def run_one(self, effect: Effect, *, ref: str = "") -> list[Reply]:
        """Run one owed effect (the dispatcher's item) and return what to tell the customer.
        Safe to run again after a crash: ``ref`` (the item's id) keys what would otherwise be
        created twice, and a token stored by an earlier try counts as stored."""
        if isinstance(effect, TicketEffect):
            ticket_notice = await run_ticket_effect(self.support, effect)
            return [ticket_notice] if ticket_notice is not None else []
        if isinstance(effect, ForgetCustomer | ExportData):
            if self.privacy is None:
                raise RuntimeError("/forget or /mydata was used but no privacy office is wired")
            return await self.privacy.run(effect)
        if isinstance(effect, SendOutgoing):
            message = effect.message
            notice = await self.courier.deliver(message, self._cap(message))
            return [notice] if notice is not None else []
        if isinstance(effect, StoreToken):
            try:
                await self._store_token(effect)
            except IntegrityError:
                log.info("token of %s stored by an earlier try", effect.key)
        elif isinstance(effect, RecordHuman):
            return await self._record_human(effect, ref)
        elif isinstance(effect, RecordConsent):
            if self.consents is None:
                raise RuntimeError("a flow records consents but no consent store is wired")
            await self.consents.record_consent(effect.customer_id, effect.kind, effect.given_at)
        elif isinstance(effect, SaveProfile):
            if self.profiles is None:
                raise RuntimeError("a flow saves profiles but no profile store is wired")
            if not await self.profiles.save_profile(effect):
                return [Reply(Text(USERNAME_LOST, {"username": effect.username}))]
        return []

    async def run(self, effects: tuple[Effect, ...]) -> list[Reply]:
        """Run each effect in order; return what to tell the customer about them."""
        notices: list[Reply] = []
        for effect in effects:
            notices += await self.run_one(effect)
        return notices

    async def _store_token(self, effect: StoreToken) -> None:
        await self.tokens.store_token(
            token_hash=effect.token_hash,
            purpose=effect.purpose,
            key=effect.key,
            customer_id=effect.customer_id,
            locale=effect.locale,
            expires_at=effect.expires_at,
        )

    async def _record_human(self, effect: RecordHuman, ref: str) -> list[Reply]:
        number = await self.records.record_human_request(effect.request)
        log.info("human request %s recorded for %s", number, effect.request.key)
        if self.support is not None:
            ticket_ref = _ref(effect.request.key, ref) if ref else None
            await self.support.open_request(effect.request, number, ref=ticket_ref)
        return []

    def _cap(self, message: Outgoing) -> Cap:
        """The message's slot in the cap per address."""
        routed = message if isinstance(message, ConversationOutgoing) else None
        return Cap(
            send_subject(self.secret, message),
            limit=routed.max_sends if routed else 5,
            window=routed.send_window if routed else 600,
        )

    async def close(self) -> None:
        await self.courier.close()
        if self.courier.limiter is not None:
            await self.courier.limiter.close()
