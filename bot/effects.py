"""Runs a turn's effects after its state is committed."""

from __future__ import annotations

import logging

from dialogs.effects import Effect, RecordHuman, SendOutgoing, StoreToken
from dialogs.errors import DeliveryError
from dialogs.i18n import N_
from dialogs.ports import Delivery, RequestRecorder, TokenStore
from dialogs.replies import Reply, Text

log = logging.getLogger(__name__)

DELIVERY_FAILED = N_(
    "We could not send your code just now. Please press “Send a new code” in a minute, "
    "or send /human and a person will help you."
)


class EffectRunner:
    def __init__(self, delivery: Delivery, records: RequestRecorder, tokens: TokenStore) -> None:
        self.delivery = delivery
        self.records = records
        self.tokens = tokens

    async def run(self, effects: tuple[Effect, ...]) -> list[Reply]:
        """Run each effect; return replies that tell the customer about failures."""
        notices: list[Reply] = []
        for effect in effects:
            if isinstance(effect, SendOutgoing):
                try:
                    await self.delivery.send(effect.message)
                except DeliveryError as exc:
                    log.warning("delivery failed over %s: %s", exc.channel, exc.reason)
                    notices.append(Reply(Text(DELIVERY_FAILED)))
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
        return notices
