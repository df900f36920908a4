"""/forget and /mydata after the commit (issue 20): the effects of :mod:`dialogs.privacy`.

/forget tells the agents' group about each ticket first (the ticket still shows where it
is), then erases the records (storage/privacy.py) and last the conversation state, so a try
that fails half-way is simply run again: nothing is erased twice, nothing is left.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

from bot.support.desk import SupportDesk
from dialogs.effects import ExportData, ForgetCustomer, PrivacyEffect
from dialogs.events import ConversationKey
from dialogs.i18n import N_
from dialogs.ports import StateStore
from dialogs.replies import Document, Reply, Text
from storage.privacy import SqlPrivacy

FORGOTTEN = N_(
    "Done: we have deleted what we kept about you from this chat. Your tickets remain only as "
    "anonymous records, without their content. The customer records your company keeps with "
    "us (your company, its contracts and contact details) are not ours to delete: ask your "
    "account manager about those. Send /start to begin again."
)
FORGOTTEN_DELETED = N_(
    "Done: we have deleted what we kept about you from this chat, your tickets included. The "
    "customer records your company keeps with us (your company, its contracts and contact "
    "details) are not ours to delete: ask your account manager about those. Send /start to "
    "begin again."
)
MYDATA = N_(
    "Here is everything this chat keeps about you, as a JSON file. Codes and links we sent "
    "you are listed, but never the codes themselves."
)
FILENAME = "my-data.json"
TIME_FIELDS = frozenset(
    {"at", "created_at", "updated_at", "linked_at", "given_at", "saved_at", "expires_at"}
    | {"used_at", "password_set_at", "pin_set_at", "issued_at", "noticed_at"}
)


def funnel_customer(secret: bytes, key: ConversationKey) -> str:
    """The funnel's name for the customer (bot/ops/observe.py): a keyed hash of the key."""
    return hashlib.blake2b(str(key).encode(), key=secret, digest_size=16).hexdigest()


class PrivacyOffice:
    def __init__(
        self,
        records: SqlPrivacy,
        store: StateStore,
        *,
        secret: bytes,
        support: SupportDesk | None = None,
        delete_tickets: bool = False,
    ) -> None:
        self.records = records
        self.store = store
        self.secret = secret
        self.support = support
        self.delete_tickets = delete_tickets

    async def run(self, effect: PrivacyEffect) -> list[Reply]:
        if isinstance(effect, ForgetCustomer):
            return await self.forget(effect)
        return await self.export(effect)

    async def forget(self, effect: ForgetCustomer) -> list[Reply]:
        if self.support is not None:
            for number in await self.records.ticket_numbers(effect.key):
                await self.support.tell_erased(number)
        await self.records.erase(
            effect.key,
            funnel_customer=funnel_customer(self.secret, effect.key),
            delete_tickets=self.delete_tickets,
        )
        await self.store.erase(effect.key)
        return [Reply(Text(FORGOTTEN_DELETED if self.delete_tickets else FORGOTTEN))]

    async def export(self, effect: ExportData) -> list[Reply]:
        held = {
            "generated_at": effect.at,
            "conversation": json.loads(effect.state),
            **await self.records.holdings(effect.key),
        }
        content = json.dumps(readable(held), ensure_ascii=False, indent=2, sort_keys=True)
        return [Reply(Text(MYDATA), document=Document(FILENAME, content))]


def readable(value: Any, name: str = "") -> Any:
    """Times (epoch seconds in the records) as ISO 8601 in UTC, everywhere in ``value``."""
    if isinstance(value, dict):
        return {key: readable(item, key) for key, item in value.items()}
    if isinstance(value, list):
        return [readable(item, name) for item in value]
    timed = name in TIME_FIELDS or name in ("sends", "generated_at")
    if timed and isinstance(value, int | float) and not isinstance(value, bool) and value:
        return datetime.fromtimestamp(value, UTC).isoformat()
    return value
