"""What a turn owes the customer: its replies and its effects, committed with the state.

A turn's commit writes these items atomically with the new conversation state (see
:meth:`dialogs.ports.StateStore.commit`); a dispatcher delivers them afterwards and marks each
one done. Item ids sort in the conversation's order: the state version the turn committed,
then the item's position in the turn, so a conversation's items are delivered in order across
turns, processes and restarts.

Order within a turn:

* ``chat`` lane, in order: the effects the replies depend on (a hand-off token must be stored
  before its link is shown; a profile or consent before the reply that confirms it), then the
  replies. Notices from those effects follow the turn's replies.
* ``slow`` lane: mails, SMS and everything that posts to the agents' group. They never hold
  up a reply (the group is paced at 20 messages a minute; SMTP may retry for a minute).

The codec is JSON of the engine's own dataclasses (named by class, no pickle: data read back
from a store can only become one of the known types).
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from pydantic import TypeAdapter

from dialogs import effects as fx
from dialogs import replies
from dialogs.events import ConversationKey
from dialogs.ports import delivery, profiles, records, state, tickets

CHAT, SLOW = "chat", "slow"
_SLOW_EFFECTS = (
    fx.SendOutgoing,
    fx.RecordHuman,
    fx.OpenTicket,
    fx.AddTicketMessage,
    fx.SetTicketStatus,
    fx.AddTicketCc,
)


@dataclass(frozen=True, slots=True)
class OwedItem:
    """One reply or effect a committed turn owes; ``what`` is a :class:`Reply` or an effect."""

    id: str
    key: ConversationKey
    locale: str
    what: Any
    update_id: int | None = None

    @property
    def lane(self) -> str:
        return SLOW if isinstance(self.what, _SLOW_EFFECTS) else CHAT

    @property
    def turn(self) -> str:
        """The committing version: items of one turn share it."""
        return self.id.partition(".")[0]


def item_id(version: int, position: int, nonce: str = "") -> str:
    """Sorts by the committing version, then the position; ``nonce`` (per commit) keeps ids
    apart when a conversation's versions start again (deleted, expired, a store flushed)."""
    return f"{version:012d}.{position:03d}{'.' + nonce if nonce else ''}"


def commit_nonce(now: float) -> str:
    """A commit's nonce: when it was made (8 hex digits of seconds, so housekeeping can tell an
    item's age: ``RETAIN_OWED_DAYS``) and a random part (4 hex digits). The random part only
    keeps a restarted conversation's ids apart, it guards nothing: the process's PRNG (no
    system call per commit, as ``secrets`` makes)."""
    return f"{int(now):08x}{random.getrandbits(16):04x}"


def committed_at(item: str) -> float | None:
    """When the item's turn was committed, from its id; None for an id without the time (no
    nonce, or the 6 random hex digits of ids written before the time was in them)."""
    parts = item.split(".")
    nonce = parts[2] if len(parts) == 3 else ""
    if len(nonce) != 12:
        return None
    try:
        return float(int(nonce[:8], 16))
    except ValueError:
        return None


def owed_items(
    key: ConversationKey,
    *,
    version: int,
    update_id: int | None,
    locale: str,
    effects: Sequence[Any],
    reply_list: Sequence[replies.Reply],
    nonce: str = "",
) -> tuple[OwedItem, ...]:
    """A turn's items in delivery order (see the module): chat-lane effects, replies, then the
    slow effects. ``version`` is the state version the turn commits."""
    fast = [e for e in effects if not isinstance(e, _SLOW_EFFECTS)]
    slow = [e for e in effects if isinstance(e, _SLOW_EFFECTS)]
    ordered = [*fast, *reply_list, *slow]
    return tuple(
        OwedItem(item_id(version, n, nonce), key, locale, what, update_id)
        for n, what in enumerate(ordered)
    )


class OwedCodec(Protocol):
    """Turns an item into the bytes a store keeps and back (sealing lives behind this)."""

    def encode(self, item: OwedItem) -> bytes: ...

    def decode(self, data: bytes) -> OwedItem: ...


_PORTS = (delivery, profiles, records, state, tickets)  # their dataclasses travel in items
_TYPES: dict[str, type] = {
    cls.__name__: cls
    for module in (fx, replies, *_PORTS)
    for cls in vars(module).values()
    if isinstance(cls, type) and dataclasses.is_dataclass(cls) and cls.__module__ == module.__name__
}
_ADAPTERS: dict[type, TypeAdapter[Any]] = {}


def _adapter(cls: type) -> TypeAdapter[Any]:
    adapter = _ADAPTERS.get(cls)
    if adapter is None:
        adapter = _ADAPTERS[cls] = TypeAdapter(cls)
        # "Text" inside a Param (dialogs.replies) is a forward reference from other modules.
        names = {**_TYPES, "Param": replies.Param, "Mapping": Mapping}
        adapter.rebuild(force=True, _types_namespace=names)
    return adapter


class JsonCodec:
    """An item as one header line (what it is, its id, conversation, language, update) and
    its reply or effect as JSON by pydantic (its Rust serialiser: ~4 µs a reply, where a
    Python walk of the dataclasses took ~22 µs on the update's path). Only the engine's own
    types are read back (by name; anything else is refused). A mail's message keeps its class
    (a :class:`~dialogs.ports.ConversationOutgoing` knows its conversation and cap)."""

    def encode(self, item: OwedItem) -> bytes:
        what = item.what
        if isinstance(what, fx.SendOutgoing):
            name, what = f"SendOutgoing:{type(what.message).__name__}", what.message
        else:
            name = type(what).__name__
        if _TYPES.get(name.partition(":")[2] or name) is not type(what):
            raise TypeError(f"not an owed type: {name}")
        key, update = item.key, "" if item.update_id is None else item.update_id
        head = f"{name}\t{item.id}\t{key}\t{item.locale}\t{update}\n".encode()
        return head + _adapter(type(what)).dump_json(what, exclude_defaults=True)

    def decode(self, data: bytes) -> OwedItem:
        head, _, body = data.partition(b"\n")
        name, item, key, locale, update = head.decode().split("\t")
        outer, _, inner = name.partition(":")
        what = _adapter(_TYPES[inner or outer]).validate_json(body)  # KeyError: refused
        if inner:
            what = fx.SendOutgoing(what)
        update_id = int(update) if update else None
        return OwedItem(item, ConversationKey.parse(key), locale, what, update_id)
