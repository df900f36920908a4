"""Step kinds. Importing this package registers the built-in ones."""

from dialogs.steps import (
    basic,
    code,
    contract_verify,
    contracts,
    editions,
    guest,
    handoff,
    link,
    lookup,
    notify,
    phone,
    privacy,
    profile,
    ticket_dialogue,
    ticket_files,
    tickets,
)
from dialogs.steps.base import STEP_KINDS, Step, register

__all__ = [
    "STEP_KINDS",
    "Step",
    "basic",
    "code",
    "contract_verify",
    "contracts",
    "editions",
    "guest",
    "handoff",
    "link",
    "lookup",
    "notify",
    "phone",
    "privacy",
    "profile",
    "register",
    "ticket_dialogue",
    "ticket_files",
    "tickets",
]
