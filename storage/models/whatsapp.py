"""What the WhatsApp channel keeps (bot/channels/whatsapp/window.py)."""

from __future__ import annotations

from sqlalchemy import Float, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base


class WhatsAppWindowRow(Base):
    """A WhatsApp conversation's last inbound message (the 24-hour window) and the numbered
    menu last shown there (choices answered by number)."""

    __tablename__ = "whatsapp_windows"

    conversation: Mapped[str] = mapped_column(String(96), primary_key=True)
    last_inbound_at: Mapped[float] = mapped_column(Float, nullable=False, index=True)
    menu: Mapped[str | None] = mapped_column(Text, nullable=True)  # JSON list of callback data


class WhatsAppSentRow(Base):
    """A free-form message sent lately: when Meta reports it failed for the closed window
    (131047, in a status webhook), its text goes out again as the template."""

    __tablename__ = "whatsapp_sent"

    message_id: Mapped[str] = mapped_column(String(128), primary_key=True)  # the wamid
    conversation: Mapped[str] = mapped_column(String(96), nullable=False)
    locale: Mapped[str] = mapped_column(String(8), nullable=False)
    text: Mapped[str] = mapped_column(Text, nullable=False)
    sent_at: Mapped[float] = mapped_column(Float, nullable=False, index=True)
