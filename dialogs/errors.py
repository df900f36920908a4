"""One exception hierarchy for the whole project.

::

    OnboardError
    ├── FlowError                 a flow definition is wrong
    │   └── FlowLoadError         ... found while loading a file (names file and step)
    ├── StorageError              a store could not do its job
    │   ├── ConflictError         a conversation kept changing under us (gave up retrying)
    │   └── LookupUnavailable     the company's CRM did not answer usably (down, slow, bad data)
    ├── DeliveryError             a mail / SMS / message could not be sent
    ├── ImportRowError            a CRM import row is invalid (names line and reason)
    └── ConfigError               settings are missing or contradict each other
"""

from __future__ import annotations


class OnboardError(Exception):
    """Root of every error this project raises on purpose."""


class FlowError(OnboardError):
    """A flow definition is inconsistent."""


class FlowLoadError(FlowError):
    """A flow file failed validation; carries the file and, when known, the step."""

    def __init__(self, file: str, problem: str, step: str | None = None) -> None:
        self.file = file
        self.step = step
        self.problem = problem
        where = f"{file}, step {step!r}" if step else file
        super().__init__(f"{where}: {problem}")


class StorageError(OnboardError):
    """A state or record store failed."""


class ConflictError(StorageError):
    """Optimistic concurrency gave up: the conversation changed on every retry."""

    def __init__(self, key: object, attempts: int) -> None:
        self.key = key
        self.attempts = attempts
        super().__init__(f"conversation {key} changed concurrently {attempts} times")


class LookupUnavailable(StorageError):
    """A look-up could not be answered (the CRM is down, too slow, refused us or sent nonsense).

    Never a "not found": the step that asked is re-entered when the customer tries again.
    ``reason`` is for the logs and never holds what the customer typed.
    """

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(f"look-up unavailable: {reason}")


class DeliveryError(OnboardError):
    """Sending a message through some channel failed."""

    def __init__(self, channel: str, reason: str) -> None:
        self.channel = channel
        self.reason = reason
        super().__init__(f"{channel}: {reason}")


class ImportRowError(OnboardError):
    """One row of a CRM import is invalid."""

    def __init__(self, line: int, reason: str) -> None:
        self.line = line
        self.reason = reason
        super().__init__(f"line {line}: {reason}")


class ConfigError(OnboardError):
    """Settings are missing or inconsistent."""
