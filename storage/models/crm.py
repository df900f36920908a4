"""The CRM records, loaded by ``onboard crm load`` or mirrored from the live CRM: customers,
their e-mails and phones."""

from __future__ import annotations

import time

from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base


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
