"""The service PIN: rules for a chosen one, generation, and the "save as PDF" sheet.

A PIN authenticates the customer to support later, so it must not be guessable from a list
of the usual suspects: runs (123456, 987654), one digit repeated (000000), a short pattern
repeated (121212, 123123) and a few other favourites are refused. Only its argon2id hash is
kept (``storage/accounts.py``), and checking it allows at most 10 failures in a row.
"""

from __future__ import annotations

import itertools
import secrets
from pathlib import Path
from typing import TYPE_CHECKING

from dialogs.i18n import N_, NN_
from dialogs.replies import Text, say_n
from dialogs.steps.handoff import PinPolicy

if TYPE_CHECKING:
    from fpdf import FPDF

PIN_DIGITS_ONLY = N_("Use digits only.")
PIN_TOO_SHORT = NN_("Use at least {count} digit.", "Use at least {count} digits.")
PIN_TOO_LONG = NN_("Use at most {count} digit.", "Use at most {count} digits.")
PIN_TRIVIAL = N_("This PIN is too easy to guess. Avoid runs like 123456 and repeats like 000000.")
PDF_TITLE = N_("Your service PIN")
PDF_NOTE = N_(
    "Keep this PIN in a safe place. Our support will ask for it to confirm it is you. "
    "Nobody from our company will ask you for your password."
)
FAVOURITES = frozenset({"112233", "159753", "147258", "123321", "654123", "111222", "101010"})
FONT_CANDIDATES = (
    Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
    Path("/usr/share/fonts/TTF/DejaVuSans.ttf"),
)


def _run(pin: str) -> bool:
    steps = {int(b) - int(a) for a, b in itertools.pairwise(pin)}
    return steps in ({1}, {-1})


def _repeats_a_pattern(pin: str) -> bool:
    for size in range(1, len(pin) // 2 + 1):
        unit = pin[:size]
        if unit * (len(pin) // size) + unit[: len(pin) % size] == pin:
            return True
    return False


def is_trivial(pin: str) -> bool:
    return _run(pin) or _repeats_a_pattern(pin) or pin in FAVOURITES


def pin_problems(policy: PinPolicy, pin: str) -> list[Text]:
    """Why ``pin`` cannot be used (empty when it can)."""
    if not pin.isascii() or not pin.isdigit():
        return [Text(PIN_DIGITS_ONLY)]
    if len(pin) < policy.min_digits:
        return [say_n(PIN_TOO_SHORT, policy.min_digits)]
    if len(pin) > policy.max_digits:
        return [say_n(PIN_TOO_LONG, policy.max_digits)]
    return [Text(PIN_TRIVIAL)] if is_trivial(pin) else []


def generate_pin(policy: PinPolicy) -> str:
    """A random PIN of ``min_digits`` digits from ``secrets``, never a trivial one."""
    while True:
        pin = "".join(secrets.choice("0123456789") for _ in range(policy.min_digits))
        if not is_trivial(pin):
            return pin


def _font(pdf: FPDF, texts: list[str]) -> str:
    """A Unicode font when the system has one, else the built-in Helvetica (Latin-1 only)."""
    for candidate in FONT_CANDIDATES:
        if candidate.exists():
            pdf.add_font("page", fname=str(candidate))
            return "page"
    if not all(_latin1(text) for text in texts):
        raise UnicodeError("no Unicode font for this language")
    return "helvetica"


def _latin1(text: str) -> bool:
    try:
        text.encode("latin-1")
    except UnicodeEncodeError:
        return False
    return True


def pin_pdf(pin: str, title: str, note: str) -> bytes:
    """A one-page PDF with the PIN (texts already translated). Uncompressed, and the PIN in
    a core font: the file is tiny and the PIN stays findable by a search in the file."""
    from fpdf import FPDF  # noqa: PLC0415 - fpdf2 and Pillow cost ~25 MB; only this page needs them

    pdf = FPDF(format="A4")
    pdf.set_compression(False)
    pdf.set_creator("onboard")
    pdf.add_page()
    try:
        family = _font(pdf, [title, note])
    except UnicodeError:
        title, note, family = PDF_TITLE, PDF_NOTE, "helvetica"
    pdf.set_font(family, size=20)
    pdf.cell(text=title, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(8)
    pdf.set_font("helvetica", size=36)  # digits: the core font writes them as plain text
    pdf.cell(text=" ".join(pin[i : i + 3] for i in range(0, len(pin), 3)))
    pdf.ln(20)
    pdf.set_font(family, size=12)
    pdf.multi_cell(w=0, text=note)
    return bytes(pdf.output())
