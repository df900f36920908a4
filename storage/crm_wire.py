"""The CRM API's wire (docs/crm-api.yaml): the HMAC signature of a request, and the answers
as pydantic models (unknown fields ignored, every answer validated before it is believed)."""

from __future__ import annotations

import hashlib
import hmac

from pydantic import BaseModel, ConfigDict, Field

from storage.crm_mirror import RemoteCustomer

SIGNATURE_HEADER = "X-Onboard-Signature"
TIMESTAMP_HEADER = "X-Onboard-Timestamp"


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The HMAC signature the CRM checks: hex SHA-256 of ``timestamp + "." + body``."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


class Wire(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class WireCustomer(Wire):
    id: str = Field(min_length=1, max_length=100)
    scheme: str = Field(min_length=1, max_length=16)
    tax_id: str = Field(min_length=1, max_length=32)
    name: str = Field(min_length=1, max_length=300)
    flags: dict[str, bool] = Field(default_factory=dict)

    def remote(self) -> RemoteCustomer:
        return RemoteCustomer(self.id, self.scheme, self.tax_id, self.name, self.flags)


class CustomerAnswer(Wire):
    match: bool
    customer: WireCustomer | None = None


class PolicyAnswer(CustomerAnswer):
    contract_number: str | None = None
    holder: bool = True


class ContractAnswer(CustomerAnswer):
    contract_number: str | None = None
    edition: str | None = None


class OnlineAnswer(Wire):
    match: bool


class WireDevice(Wire):
    serial: str
    name: str


class WireContract(Wire):
    number: str
    product: str
    edition: str | None = None
    active: bool = True
    holder: str | None = None
    online_bought: bool = False
    devices: tuple[WireDevice, ...] = ()


class ContractsAnswer(Wire):
    contracts: tuple[WireContract, ...] = Field(max_length=500)


class ConsentAnswer(Wire):
    given: bool
