"""One found problem, printed the way compilers do (``file:line: message``) so editors jump."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, order=True, slots=True)
class Problem:
    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


def shorten(text: str, width: int = 60) -> str:
    """A message id as a reader recognises it: one line, cut with an ellipsis."""
    flat = " ".join(text.split())
    return repr(flat if len(flat) <= width else flat[: width - 1] + "…")
