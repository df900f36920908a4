"""The embedded conversation state (used when no REDIS_URL is set): conversations, seen update
ids, what committed turns owe and their delivery leases."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Float,
    Integer,
    LargeBinary,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base


class ConversationRow(Base):
    __tablename__ = "conversations"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    data: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    expires_at: Mapped[float] = mapped_column(Float, nullable=False, index=True)


class SeenUpdateRow(Base):
    __tablename__ = "seen_updates"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    seen_at: Mapped[float] = mapped_column(Float, nullable=False)


class OwedItemRow(Base):
    """A reply or effect a committed turn still owes (sealed; see dialogs.owed)."""

    __tablename__ = "owed_items"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    item_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)


class OwedLeaseRow(Base):
    """A conversation with something owed, and until when one process delivers it."""

    __tablename__ = "owed_leases"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    lease_until: Mapped[float] = mapped_column(Float, nullable=False, index=True)
