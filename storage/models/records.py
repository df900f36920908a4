"""What the bot itself writes: the CRM sync's state, requests for a person, hand-off tokens,
the app's secrets."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base


class CrmSyncStateRow(Base):
    """Where ``onboard crm sync`` stopped: the CRM's cursor of its list of changes."""

    __tablename__ = "crm_sync_state"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    cursor: Mapped[str | None] = mapped_column(String(500), nullable=True)
    synced_at: Mapped[float] = mapped_column(Float, nullable=False)


class HumanRequestRow(Base):
    """A customer asked for a person (``@human``)."""

    __tablename__ = "human_requests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conversation_key: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    flow: Mapped[str | None] = mapped_column(String(100))
    step: Mapped[str | None] = mapped_column(String(100))
    locale: Mapped[str] = mapped_column(String(16), nullable=False)
    reason: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[float] = mapped_column(Float, nullable=False)
    kind: Mapped[str] = mapped_column(String(20), nullable=False, server_default="help")
    details: Mapped[dict[str, str] | None] = mapped_column(JSON)


class HandoffTokenRow(Base):
    """A one-time web hand-off token; only its SHA-256 (hex) is stored."""

    __tablename__ = "handoff_tokens"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    purpose: Mapped[str] = mapped_column(String(32), nullable=False)
    conversation_key: Mapped[str] = mapped_column(String(64), nullable=False)
    customer_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("customers.id", ondelete="SET NULL")
    )
    locale: Mapped[str] = mapped_column(String(16), nullable=False)
    expires_at: Mapped[float] = mapped_column(Float, nullable=False, index=True)
    used_at: Mapped[float | None] = mapped_column(Float)


class AppSecretRow(Base):
    """Server secrets generated on first start when none is configured."""

    __tablename__ = "app_secrets"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(200), nullable=False)
