"""The funnel's step events (storage/funnel.py, ``onboard funnel``)."""

from __future__ import annotations

from sqlalchemy import (
    Float,
    Index,
    Integer,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base


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
