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

The codec is neutral JSON of the engine's own dataclasses (tagged by class name, no pickle:
data read back from a store can only become one of the known types).
"""

from __future__ import annotations

import dataclasses
import enum
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from dialogs import effects as fx
from dialogs import ports, replies
from dialogs.events import ConversationKey

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


def item_id(version: int, position: int) -> str:
    return f"{version:012d}.{position:03d}"


def owed_items(
    key: ConversationKey,
    *,
    version: int,
    update_id: int | None,
    locale: str,
    effects: Sequence[Any],
    reply_list: Sequence[replies.Reply],
) -> tuple[OwedItem, ...]:
    """A turn's items in delivery order (see the module): chat-lane effects, replies, then the
    slow effects. ``version`` is the state version the turn commits."""
    fast = [e for e in effects if not isinstance(e, _SLOW_EFFECTS)]
    slow = [e for e in effects if isinstance(e, _SLOW_EFFECTS)]
    ordered = [*fast, *reply_list, *slow]
    return tuple(
        OwedItem(item_id(version, n), key, locale, what, update_id)
        for n, what in enumerate(ordered)
    )


class OwedCodec(Protocol):
    """Turns an item into the bytes a store keeps and back (sealing lives behind this)."""

    def encode(self, item: OwedItem) -> bytes: ...

    def decode(self, data: bytes) -> OwedItem: ...


_TYPES: dict[str, type] = {
    cls.__name__: cls
    for module in (fx, ports, replies)
    for cls in vars(module).values()
    if isinstance(cls, type) and (dataclasses.is_dataclass(cls) or issubclass(cls, enum.Enum))
}
_TYPES["ConversationKey"] = ConversationKey


def _dump(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return {"@e": type(value).__name__, "v": value.value}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = {f.name: _dump(getattr(value, f.name)) for f in dataclasses.fields(value)}
        return {"@": type(value).__name__, **fields}
    if isinstance(value, tuple | list):
        return [_dump(v) for v in value]
    if isinstance(value, Mapping):
        return {"@m": {str(k): _dump(v) for k, v in value.items()}}
    return value


def _load(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(_load(v) for v in value)  # every sequence field of the types is a tuple
    if not isinstance(value, dict):
        return value
    if "@m" in value:
        return {k: _load(v) for k, v in value["@m"].items()}
    if "@e" in value:
        return _TYPES[value["@e"]](value["v"])
    cls = _TYPES[value["@"]]  # KeyError: not one of ours, refused
    return cls(**{k: _load(v) for k, v in value.items() if k != "@"})


class JsonCodec:
    """Plain JSON (the tests' and the terminal's codec; the deployed one seals it)."""

    def encode(self, item: OwedItem) -> bytes:
        return json.dumps(_dump(item), ensure_ascii=False, separators=(",", ":")).encode()

    def decode(self, data: bytes) -> OwedItem:
        item = _load(json.loads(data))
        if not isinstance(item, OwedItem):
            raise ValueError("not an owed item")
        return item


_TYPES["OwedItem"] = OwedItem
