"""The interfaces the engine needs from the outside world (implemented in ``storage/`` and
``bot/``), one module per side that uses them. Small on purpose: two calls per update for
state, read-only look-ups for records.

* :mod:`.engine` the engine's clock and turn observer;
* :mod:`.state` the conversation and owed-item stores (the engine, the dispatcher);
* :mod:`.records` what the steps look up and record (CRM, contracts, tokens, requests);
* :mod:`.delivery` mails and SMS (the code and notice steps, the courier);
* :mod:`.profiles` invitations, profiles, guest access;
* :mod:`.tickets` support tickets (the ticket steps, the support desk).

Every name is importable from ``dialogs.ports`` as well.
"""

from dialogs.ports.delivery import (
    ConversationOutgoing,
    Delivery,
    Outgoing,
    SendLimiter,
)
from dialogs.ports.engine import (
    Clock,
    TurnObserver,
)
from dialogs.ports.profiles import (
    GuestAccess,
    GuestSessions,
    Invitation,
    ProfileLookup,
)
from dialogs.ports.records import (
    ConsentRecorder,
    ContractInfo,
    ContractLookup,
    CustomerMatch,
    DeviceInfo,
    FoundContract,
    FoundPolicy,
    HumanRequest,
    RecordLookup,
    RequestRecorder,
    TokenStore,
)
from dialogs.ports.state import (
    DUPLICATE,
    CommitResult,
    OwedStore,
    Snapshot,
    StateStore,
)
from dialogs.ports.tickets import (
    Attachment,
    NewTicket,
    TicketEntry,
    TicketKind,
    TicketLookup,
    TicketStatus,
    TicketSummary,
)

__all__ = [
    "DUPLICATE",
    "Attachment",
    "Clock",
    "CommitResult",
    "ConsentRecorder",
    "ContractInfo",
    "ContractLookup",
    "ConversationOutgoing",
    "CustomerMatch",
    "Delivery",
    "DeviceInfo",
    "FoundContract",
    "FoundPolicy",
    "GuestAccess",
    "GuestSessions",
    "HumanRequest",
    "Invitation",
    "NewTicket",
    "Outgoing",
    "OwedStore",
    "ProfileLookup",
    "RecordLookup",
    "RequestRecorder",
    "SendLimiter",
    "Snapshot",
    "StateStore",
    "TicketEntry",
    "TicketKind",
    "TicketLookup",
    "TicketStatus",
    "TicketSummary",
    "TokenStore",
    "TurnObserver",
]
