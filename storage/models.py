"""SQL schema (SQLAlchemy 2 declarative). Alembic migrations in ``storage/migrations`` build it.

Tables are grouped by owner: conversation state (the embedded state store) first, then the
CRM records and what the bot itself writes.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Float, Integer, LargeBinary, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


# -- embedded conversation state (used when no REDIS_URL is set) -----------------------


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
