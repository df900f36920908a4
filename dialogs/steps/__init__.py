"""Step kinds. Importing this package registers the built-in ones."""

from dialogs.steps import basic, code, handoff, link, lookup, phone
from dialogs.steps.base import STEP_KINDS, Step, register

__all__ = ["STEP_KINDS", "Step", "basic", "code", "handoff", "link", "lookup", "phone", "register"]
