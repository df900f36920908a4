"""Support tickets: the user → customer link, tickets, their messages, the group map."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base


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
