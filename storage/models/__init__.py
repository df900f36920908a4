"""SQL schema (SQLAlchemy 2 declarative). Alembic migrations in ``storage/migrations`` build it.

Tables are grouped by owner, one module each: conversation state (the embedded state store),
the CRM records, what the bot itself writes, contracts, access (caps, invitations, accounts,
profiles), support tickets and the funnel. Importing this package declares every table on
:data:`Base.metadata`; every row class imports from here.
"""

from storage.models.access import (
    AccountRow,
    GuestCodeRow,
    InvitationRow,
    ProfileRow,
    SendLimitRow,
)
from storage.models.base import Base
from storage.models.contracts import (
    ConsentRow,
    ContractRow,
    DeviceRow,
)
from storage.models.crm import (
    CustomerEmailRow,
    CustomerPhoneRow,
    CustomerRow,
)
from storage.models.funnel import (
    FunnelEventRow,
)
from storage.models.records import (
    AppSecretRow,
    CrmSyncStateRow,
    HandoffTokenRow,
    HumanRequestRow,
)
from storage.models.state import (
    ConversationRow,
    OwedItemRow,
    OwedLeaseRow,
    SeenUpdateRow,
)
from storage.models.tickets import (
    CustomerLinkRow,
    TicketGroupMessageRow,
    TicketMessageRow,
    TicketRow,
)

__all__ = [
    "AccountRow",
    "AppSecretRow",
    "Base",
    "ConsentRow",
    "ContractRow",
    "ConversationRow",
    "CrmSyncStateRow",
    "CustomerEmailRow",
    "CustomerLinkRow",
    "CustomerPhoneRow",
    "CustomerRow",
    "DeviceRow",
    "FunnelEventRow",
    "GuestCodeRow",
    "HandoffTokenRow",
    "HumanRequestRow",
    "InvitationRow",
    "OwedItemRow",
    "OwedLeaseRow",
    "ProfileRow",
    "SeenUpdateRow",
    "SendLimitRow",
    "TicketGroupMessageRow",
    "TicketMessageRow",
    "TicketRow",
]
