"""Contracts, devices and consents (CRM; the hu, kk, de and pl flows check them)."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Float,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base


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
