"""The SQL state store's tables and statements, built once (values are bound per call)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, Table, bindparam, delete, exists, insert, select, update
from sqlalchemy.sql import Delete, Select

from storage.models import Base

CONVERSATIONS: Table = Base.metadata.tables["conversations"]
SEEN_UPDATES: Table = Base.metadata.tables["seen_updates"]
OWED: Table = Base.metadata.tables["owed_items"]
LEASES: Table = Base.metadata.tables["owed_leases"]


def begin_statement() -> Select[Any]:
    """One row: whether (k, u) was seen, and the conversation (NULLs when absent).

    A one-row derived table outer-joined to ``conversations`` keeps the answer to a
    single statement even when the conversation does not exist.
    """
    probe = select(bindparam("k", type_=CONVERSATIONS.c.key.type).label("k")).subquery("probe")
    seen = (
        exists()
        .where(SEEN_UPDATES.c.key == probe.c.k)
        .where(SEEN_UPDATES.c.update_id == bindparam("u", type_=BigInteger))
    )
    conv = CONVERSATIONS.c
    return select(seen.label("dup"), conv.version, conv.data, conv.expires_at).select_from(
        probe.outerjoin(CONVERSATIONS, conv.key == probe.c.k)
    )


BEGIN = begin_statement()
INSERT = insert(CONVERSATIONS).values(
    key=bindparam("k"), version=1, data=bindparam("d"), expires_at=bindparam("e")
)
UPDATE = (
    update(CONVERSATIONS)
    .where(CONVERSATIONS.c.key == bindparam("k"))
    .where(CONVERSATIONS.c.version == bindparam("v"))
    .values(version=bindparam("v") + 1, data=bindparam("d"), expires_at=bindparam("e"))
)
MARK_SEEN = insert(SEEN_UPDATES).values(
    key=bindparam("k"), update_id=bindparam("u"), seen_at=bindparam("now")
)
INSERT_OWED = insert(OWED).values(key=bindparam("k"), item_id=bindparam("i"), data=bindparam("d"))
LEASE_OF = select(LEASES.c.key).where(LEASES.c.key == bindparam("k"))
TAKE_LEASE = insert(LEASES).values(key=bindparam("k"), lease_until=bindparam("until"))
OWED_OF = (
    select(OWED.c.item_id, OWED.c.data).where(OWED.c.key == bindparam("k")).order_by(OWED.c.item_id)
)
LOCK_CONVERSATION = (
    select(CONVERSATIONS.c.key).where(CONVERSATIONS.c.key == bindparam("k")).with_for_update()
)


def trim_statement(seen_limit: int) -> Delete:
    """Delete a key's seen ids older than its ``seen_limit``-th newest (none if fewer)."""
    cutoff = (
        select(SEEN_UPDATES.c.update_id)
        .where(SEEN_UPDATES.c.key == bindparam("k"))
        .order_by(SEEN_UPDATES.c.update_id.desc())
        .offset(seen_limit - 1)
        .limit(1)
        .scalar_subquery()
    )
    return (
        delete(SEEN_UPDATES)
        .where(SEEN_UPDATES.c.key == bindparam("k"))
        .where(SEEN_UPDATES.c.update_id < cutoff)
    )
