"""Send caps per address, invitation links, the accounts the hand-off pages set (password and
service PIN, hashed), the de registration's profiles and guests' access codes."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base


class SendLimitRow(Base):
    """Recent sends to one address (keyed hash), for the cap across conversations."""

    __tablename__ = "send_limits"

    subject: Mapped[str] = mapped_column(String(64), primary_key=True)
    sends: Mapped[str] = mapped_column(Text, nullable=False, default="[]")  # JSON list of times
    last_at: Mapped[float] = mapped_column(Float, nullable=False, index=True)


class InvitationRow(Base):
    """A one-time invitation link (deep link ``/start <token>``); only the SHA-256 is kept."""

    __tablename__ = "invitations"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    flow: Mapped[str] = mapped_column(String(100), nullable=False)
    customer_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("customers.id", ondelete="CASCADE")
    )
    locale: Mapped[str] = mapped_column(String(16), nullable=False)
    created_at: Mapped[float] = mapped_column(Float, nullable=False)
    expires_at: Mapped[float] = mapped_column(Float, nullable=False, index=True)
    used_at: Mapped[float | None] = mapped_column(Float)
    used_by: Mapped[str | None] = mapped_column(String(64))
    edition: Mapped[str | None] = mapped_column(String(60))  # the product edition (seed 003)


# -- accounts: what the hand-off pages set (password and service PIN, hashed) ---------------


class AccountRow(Base):
    """A customer's portal account as far as the bot knows it: argon2id hashes only.

    One per person: the conversation that registered, for one CRM customer (or for none,
    when the flow matched no customer). A customer has several: each person a practice
    invites gets their own, and nobody's invitation replaces another's (issue 17, item 2). A
    chosen PIN waits in ``pending_pin_hash`` until the customer confirms they stored it safely.
    """

    __tablename__ = "accounts"
    __table_args__ = (
        UniqueConstraint("customer_id", "conversation_key", name="uq_accounts_person"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    conversation_key: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    pending_pin_hash: Mapped[str | None] = mapped_column(String(255))
    pin_hash: Mapped[str | None] = mapped_column(String(255))
    pin_failures: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    created_at: Mapped[float] = mapped_column(Float, nullable=False)
    updated_at: Mapped[float] = mapped_column(Float, nullable=False)
    password_set_at: Mapped[float | None] = mapped_column(Float)
    pin_set_at: Mapped[float | None] = mapped_column(Float)


# -- the de registration (seed 003): profiles, and guests' access codes ----------------------


class ProfileRow(Base):
    """What the de registration chose: a unique user name (lower-case), the product edition,
    the phone confirmed for SMS 2FA (None: activate later) and contact-search visibility."""

    __tablename__ = "profiles"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conversation_key: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    customer_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    username: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    edition: Mapped[str | None] = mapped_column(String(60))
    two_factor_phone: Mapped[str | None] = mapped_column(String(20))
    visible: Mapped[bool] = mapped_column(Boolean, nullable=False)
    saved_at: Mapped[float] = mapped_column(Float, nullable=False)


class GuestCodeRow(Base):
    """A guest's personal access code to one session; only its SHA-256 is kept, and nothing
    about the guest (seed 003: guests do not register)."""

    __tablename__ = "guest_codes"

    code_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    session: Mapped[str] = mapped_column(String(200), nullable=False)
    join_url: Mapped[str] = mapped_column(String(500), nullable=False)
    created_at: Mapped[float] = mapped_column(Float, nullable=False)
    expires_at: Mapped[float] = mapped_column(Float, nullable=False, index=True)
