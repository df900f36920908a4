"""SQL schema (SQLAlchemy 2 declarative). Alembic migrations in ``storage/migrations`` build it.

Tables are grouped by owner: conversation state (the embedded state store) first, then the
CRM records and what the bot itself writes.
"""

from __future__ import annotations

import time

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    true,
)
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


# -- CRM records (loaded by ``onboard crm load``) ----------------------------------------


class CustomerRow(Base):
    """One customer, identified by a tax number in one scheme (``bg_eik``, ``pl_nip``, ...)."""

    __tablename__ = "customers"
    __table_args__ = (
        UniqueConstraint("tax_scheme", "tax_id", name="uq_customers_tax"),
        UniqueConstraint("external_id", name="uq_customers_external_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tax_scheme: Mapped[str] = mapped_column(String(16), nullable=False)
    tax_id: Mapped[str] = mapped_column(String(32), nullable=False)
    name: Mapped[str] = mapped_column(String(300), nullable=False)
    flags: Mapped[dict[str, bool]] = mapped_column(JSON, nullable=False, default=dict)
    created_at: Mapped[float] = mapped_column(Float, nullable=False, default=time.time)
    # issue 21: the id in the company's CRM (live look-ups, sync); a customer removed at the
    # source is deactivated, never deleted while conversations or tickets refer to it
    external_id: Mapped[str | None] = mapped_column(String(100), nullable=True)
    active: Mapped[bool] = mapped_column(
        Boolean, nullable=False, default=True, server_default=true()
    )


class CustomerEmailRow(Base):
    """A contact e-mail on record, stored normalised and lower-case."""

    __tablename__ = "customer_emails"
    __table_args__ = (UniqueConstraint("customer_id", "email", name="uq_customer_emails"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("customers.id", ondelete="CASCADE"), nullable=False
    )
    email: Mapped[str] = mapped_column(String(320), nullable=False, index=True)


class CustomerPhoneRow(Base):
    """A contact phone number on record, in E.164."""

    __tablename__ = "customer_phones"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("customers.id", ondelete="CASCADE"), nullable=False, index=True
    )
    phone: Mapped[str] = mapped_column(String(20), nullable=False, index=True)


# -- written by the bot ------------------------------------------------------------------


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


# -- contracts, devices and consents (CRM; the hu, kk, de and pl flows check them) ------


class ContractRow(Base):
    """A customer's contract (subscription, policy, support contract) as the CRM has it."""

    __tablename__ = "contracts"
    __table_args__ = (UniqueConstraint("customer_id", "number", name="uq_contracts_number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("customers.id", ondelete="CASCADE"), nullable=False, index=True
    )
    number: Mapped[str] = mapped_column(String(40), nullable=False)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False)
    product: Mapped[str] = mapped_column(String(120), nullable=False)
    edition: Mapped[str | None] = mapped_column(String(60))
    holder: Mapped[str | None] = mapped_column(String(300))  # the policyholder / contract holder
    online_bought: Mapped[bool] = mapped_column(Boolean, nullable=False)
    email: Mapped[str | None] = mapped_column(String(320), index=True)
    phone: Mapped[str | None] = mapped_column(String(20), index=True)


class DeviceRow(Base):
    """A device line on a contract: a serial number, or a software licence key (dashes kept)."""

    __tablename__ = "devices"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contract_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("contracts.id", ondelete="CASCADE"), nullable=False, index=True
    )
    serial: Mapped[str] = mapped_column(String(80), nullable=False, index=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False)


class ConsentRow(Base):
    """A declaration the customer already gave (e.g. electronic communication, seed 001)."""

    __tablename__ = "consents"
    __table_args__ = (UniqueConstraint("customer_id", "kind", name="uq_consents_kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("customers.id", ondelete="CASCADE"), nullable=False
    )
    kind: Mapped[str] = mapped_column(String(40), nullable=False)
    given_at: Mapped[float] = mapped_column(Float, nullable=False)


# -- delivery: send caps per address, invitation links ---------------------------------------


class SendLimitRow(Base):
    """Recent sends to one address (keyed hash), for the cap across conversations."""

    __tablename__ = "send_limits"

    subject: Mapped[str] = mapped_column(String(64), primary_key=True)
    sends: Mapped[str] = mapped_column(Text, nullable=False, default="[]")  # JSON list of times
    last_at: Mapped[float] = mapped_column(Float, nullable=False, index=True)


class WhatsAppWindowRow(Base):
    """A WhatsApp conversation's last inbound message (the 24-hour window) and the numbered
    menu last shown there (choices answered by number)."""

    __tablename__ = "whatsapp_windows"

    conversation: Mapped[str] = mapped_column(String(96), primary_key=True)
    last_inbound_at: Mapped[float] = mapped_column(Float, nullable=False, index=True)
    menu: Mapped[str | None] = mapped_column(Text, nullable=True)  # JSON list of callback data


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


# -- support tickets: the user -> customer link, tickets, their messages, the group map ---------


class CustomerLinkRow(Base):
    """A Telegram user who finished a flow as a known CRM customer (conversation state is
    reset by /start and expires; this link is what makes them a registered customer)."""

    __tablename__ = "customer_links"

    conversation_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    customer_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("customers.id", ondelete="CASCADE"), nullable=False, index=True
    )
    linked_at: Mapped[float] = mapped_column(Float, nullable=False)


class TicketRow(Base):
    """A support ticket: filed (/ticket), a request for a person (/human) or a callback.

    ``request_id`` points at the ``human_requests`` row that carries the conversation context
    of help and callback tickets (one source of truth). ``group_chat_id``, ``thread_id`` and
    ``card_message_id`` say where the agents see it."""

    __tablename__ = "tickets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ref: Mapped[str] = mapped_column(String(32), nullable=False, unique=True)
    conversation_key: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    chat_id: Mapped[int] = mapped_column(BigInteger, nullable=False)
    customer_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("customers.id", ondelete="SET NULL")
    )
    kind: Mapped[str] = mapped_column(String(20), nullable=False)
    status: Mapped[str] = mapped_column(String(20), nullable=False)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    description: Mapped[str] = mapped_column(Text, nullable=False)
    contract: Mapped[str | None] = mapped_column(String(40))
    device: Mapped[str | None] = mapped_column(String(300))
    cc: Mapped[list[str]] = mapped_column(JSON, nullable=False, default=list)
    locale: Mapped[str] = mapped_column(String(16), nullable=False)
    request_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("human_requests.id", ondelete="SET NULL")
    )
    created_at: Mapped[float] = mapped_column(Float, nullable=False)
    updated_at: Mapped[float] = mapped_column(Float, nullable=False)
    due_at: Mapped[float | None] = mapped_column(Float)
    group_chat_id: Mapped[int | None] = mapped_column(BigInteger)
    thread_id: Mapped[int | None] = mapped_column(BigInteger)
    card_message_id: Mapped[int | None] = mapped_column(BigInteger)


class TicketMessageRow(Base):
    """One message of a ticket, either direction: ``author`` is customer or agent."""

    __tablename__ = "ticket_messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("tickets.id", ondelete="CASCADE"), nullable=False, index=True
    )
    author: Mapped[str] = mapped_column(String(20), nullable=False)
    author_name: Mapped[str | None] = mapped_column(String(200))
    author_user_id: Mapped[int | None] = mapped_column(BigInteger)
    text: Mapped[str] = mapped_column(Text, nullable=False, default="")
    attachments: Mapped[list[dict[str, object]]] = mapped_column(JSON, nullable=False)
    at: Mapped[float] = mapped_column(Float, nullable=False)


class TicketGroupMessageRow(Base):
    """Our map from a message in the agents' group to its ticket (cards, relayed messages,
    agents' answers): a reply to any of them routes to the ticket, no text is parsed."""

    __tablename__ = "ticket_group_messages"

    chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    message_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("tickets.id", ondelete="CASCADE"), nullable=False, index=True
    )


class FunnelEventRow(Base):
    """One step event of the funnel (``onboard funnel``): a customer entered a step, was asked
    again there, asked for a person, or ended the flow. The customer is a keyed hash of the
    conversation key (the same customer, recognisable only with the app's secret); nothing
    they typed is kept."""

    __tablename__ = "funnel_events"
    __table_args__ = (Index("ix_funnel_events_flow_at", "flow", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[float] = mapped_column(Float, nullable=False)
    flow: Mapped[str] = mapped_column(String(64), nullable=False)
    step: Mapped[str] = mapped_column(String(64), nullable=False)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    outcome: Mapped[str] = mapped_column(String(64), nullable=False, server_default="")
    customer: Mapped[str] = mapped_column(String(32), nullable=False, index=True)
