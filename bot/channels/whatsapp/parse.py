"""A webhook POST's JSON (``object: whatsapp_business_account``) → what it tells us.

Each ``entry[].changes[].value`` of field ``messages`` holds the customers' ``messages`` and
the ``statuses`` of what we sent. A message becomes an :class:`Inbound` (a neutral event), or
a :class:`Refusal` (a location, or a kind we cannot use: answered politely, nothing applied);
a status becomes a :class:`Status`. Nothing here touches the network or a store.

The conversation key is (channel ``whatsapp``, our phone number id, the customer's WhatsApp id,
the same id): a person on Telegram and WhatsApp has two conversations. The
message id (``wamid…``) is hashed into the event's ``update_id``, so a webhook Meta delivers
again is recognised by the engine's dedupe like a Telegram update sent twice.

WhatsApp does not say which language the customer's app uses; the country of their number
suggests one (+359 → bg, +36 → hu, +7 7… → kk, +49/+43/+41 → de, +48 → pl), which the flows
use as Telegram's ``language_code``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

import phonenumbers

from bot.channels.whatsapp.render import OWN_NUMBER
from dialogs.events import Contact, ConversationKey, Event, EventKind, FileRef

JSON = dict[str, Any]
LANGUAGE_OF_REGION = {"BG": "bg", "HU": "hu", "KZ": "kk", "DE": "de", "AT": "de", "CH": "de"}
LANGUAGE_OF_REGION |= {"PL": "pl"}
FILE_KINDS = {"image": "photo", "document": "document", "video": "document", "audio": "document"}
IGNORED = frozenset({"reaction", "sticker", "system", "ephemeral"})


@dataclass(frozen=True, slots=True)
class Inbound:
    event: Event
    message_id: str
    timestamp: float


@dataclass(frozen=True, slots=True)
class Refusal:
    """A message we answer with an apology only (``reason``: ``location`` or ``unsupported``)."""

    key: ConversationKey
    reason: str
    message_id: str
    language_code: str | None


@dataclass(frozen=True, slots=True)
class Status:
    message_id: str
    status: str  # sent, delivered, read, failed
    recipient: str
    timestamp: float
    error_codes: tuple[int, ...] = field(default=())


@dataclass(frozen=True, slots=True)
class Notification:
    inbound: tuple[Inbound, ...] = ()
    refusals: tuple[Refusal, ...] = ()
    statuses: tuple[Status, ...] = ()


WHATSAPP = "whatsapp"
"""The channel of WhatsApp's conversation keys (``whatsapp:<number id>:<wa id>:<wa id>``)."""


def conversation_key(phone_number_id: str, wa_id: str) -> ConversationKey:
    return ConversationKey(int(phone_number_id), int(wa_id), int(wa_id), channel=WHATSAPP)


def update_id_of(message_id: str) -> int:
    """A stable 63-bit number for a ``wamid`` (every process computes the same one)."""
    digest = hashlib.blake2b(message_id.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") >> 1


def language_of(wa_id: str) -> str | None:
    try:
        region = phonenumbers.region_code_for_number(phonenumbers.parse(f"+{wa_id}"))
    except phonenumbers.NumberParseException:
        return None
    return LANGUAGE_OF_REGION.get(region or "")


def parse_notification(data: JSON, phone_number_id: str | None = None) -> Notification:
    """Everything in one POST; changes for another phone number (when ``phone_number_id`` is
    given) and malformed parts are left out."""
    inbound: list[Inbound] = []
    refusals: list[Refusal] = []
    statuses: list[Status] = []
    for value in _values(data):
        ours = str((value.get("metadata") or {}).get("phone_number_id") or "")
        if not ours.isdigit() or (phone_number_id is not None and ours != phone_number_id):
            continue
        for message in value.get("messages") or ():
            parsed = _message(message, ours)
            if isinstance(parsed, Inbound):
                inbound.append(parsed)
            elif isinstance(parsed, Refusal):
                refusals.append(parsed)
        statuses += filter(None, (_status(s) for s in value.get("statuses") or ()))
    return Notification(tuple(inbound), tuple(refusals), tuple(statuses))


def _values(data: JSON) -> list[JSON]:
    if not isinstance(data, dict) or data.get("object") != "whatsapp_business_account":
        return []
    values = []
    for entry in data.get("entry") or ():
        for change in (entry or {}).get("changes") or ():
            if isinstance(change, dict) and change.get("field") == "messages":
                value = change.get("value")
                if isinstance(value, dict):
                    values.append(value)
    return values


def _message(message: JSON, ours: str) -> Inbound | Refusal | None:
    try:
        return _from_message(message, ours)
    except (AttributeError, KeyError, TypeError, ValueError, IndexError):
        return None


def _from_message(message: JSON, ours: str) -> Inbound | Refusal | None:
    sender, message_id, kind = str(message["from"]), str(message["id"]), message.get("type")
    if not sender.isdigit() or kind in IGNORED:
        return None
    key = conversation_key(ours, sender)
    language = language_of(sender)
    if kind == "location":
        return Refusal(key, "location", message_id, language)
    base: JSON = {
        "update_id": update_id_of(message_id),
        "language_code": language,
        "sender_id": int(sender),
    }
    event = _event(message, kind, key, sender, base)
    if event is None:
        return Refusal(key, "unsupported", message_id, language)
    return Inbound(event, message_id, float(message.get("timestamp") or 0))


def _event(
    message: JSON, kind: str | None, key: ConversationKey, sender: str, base: JSON
) -> Event | None:
    if kind == "text":
        return _text(key, str(message["text"]["body"]), base)
    if kind == "interactive":
        reply = message["interactive"]
        chosen = reply.get("button_reply") or reply.get("list_reply")
        return _button(key, str(chosen["id"]), sender, base)
    if kind == "button":  # a template's quick-reply button
        return _button(key, str(message["button"].get("payload") or ""), sender, base)
    if kind == "contacts":
        return Event(key, EventKind.CONTACT, contact=_contact(message["contacts"], sender), **base)
    if kind in FILE_KINDS:
        return _file(key, message[kind], FILE_KINDS[kind], base)
    return None


def _text(key: ConversationKey, text: str, base: JSON) -> Event:
    if text.startswith("/"):
        head, _, argument = text[1:].partition(" ")
        name = head.lower()
        if name.isidentifier():
            return Event(key, EventKind.COMMAND, text=argument.strip(), command=name, **base)
    return Event(key, EventKind.TEXT, text=text, **base)


def _button(key: ConversationKey, data: str, sender: str, base: JSON) -> Event:
    if data == OWN_NUMBER:  # the sender's own number, which WhatsApp verified
        return Event(key, EventKind.CONTACT, contact=Contact(f"+{sender}", int(sender)), **base)
    return Event(key, EventKind.BUTTON, text=data, **base)


def _contact(cards: list[JSON], sender: str) -> Contact:
    """The first phone of the shared card; it is the sender's own only when WhatsApp says so
    (its ``wa_id`` is the sender's), never because the digits look alike."""
    phones = [p for card in cards for p in (card.get("phones") or ())]
    if not phones:
        return Contact("", None)
    own = next((p for p in phones if str(p.get("wa_id") or "") == sender), None)
    chosen = own or phones[0]
    return Contact(
        str(chosen.get("phone") or chosen.get("wa_id") or ""), int(sender) if own else None
    )


def _file(key: ConversationKey, media: JSON, kind: str, base: JSON) -> Event:
    name = media.get("filename")
    ref = FileRef(str(media["id"]), str(name) if name else None, None, media.get("mime_type"), kind)
    caption = str(media.get("caption") or "")
    return Event(key, EventKind.FILE, text=caption, files=(ref,), **base)


def _status(status: Any) -> Status | None:
    try:
        errors = tuple(int(e["code"]) for e in status.get("errors") or () if "code" in e)
        return Status(
            str(status["id"]),
            str(status["status"]),
            str(status.get("recipient_id") or ""),
            float(status.get("timestamp") or 0),
            errors,
        )
    except (AttributeError, KeyError, TypeError, ValueError):
        return None
