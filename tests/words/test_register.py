"""One register per catalog: Polish speaks to the customer as «Państwo» everywhere (issue 17,
item 13). The ticket messages used the informal «ty» ("Opisz problem… czego oczekiwałeś",
"Twoje zgłoszenie", "Nie masz jeszcze zgłoszeń", the author label "Ty") while the flows said
«Państwo»; this reads every Polish message, and the ticket area as a customer sees it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from dialogs.i18n import Catalogs
from dialogs.steps import ticket_dialogue

pytestmark = pytest.mark.stumbles

PO = Path(__file__).resolve().parents[2] / "locales" / "pl" / "LC_MESSAGES" / "messages.po"
CATALOGS = Catalogs()

# «ty» pronouns and second-person-singular verbs ("masz", "wyślesz", "oczekiwałeś").
INFORMAL = re.compile(
    r"\b(ty|tobie|ciebie|cię|ci|twój|twoj\w*|twoją|\w+łeś|\w+łaś|jesteś|masz|możesz|chcesz|"
    r"musisz|wiesz|widzisz|wyślesz|skończysz|otrzymasz|dostaniesz|znajdziesz|zechcesz)\b",
    re.IGNORECASE,
)
# Imperatives addressed to one person; a message asks formally ("Prosimy wysłać…"). Button
# labels are imperatives by convention, so quoted labels („Dalej”) are left out.
IMPERATIVE = re.compile(
    r"\b(wyślij|naciśnij|opisz|dołącz|napisz|wybierz|otwórz|wpisz|podaj|sprawdź|kliknij|"
    r"zarejestruj|skompresuj|podziel|spróbuj|poczekaj|użyj)\b",
    re.IGNORECASE,
)
QUOTED = re.compile(r"„[^”]*”")


def polish_messages() -> list[tuple[str, str, bool]]:
    """(msgid, translation, is a button label) for every entry."""
    with PO.open("rb") as handle:
        catalog = read_po(handle, locale="pl")
    found = []
    for message in catalog:
        if not message.id:
            continue
        msgid = message.id if isinstance(message.id, str) else message.id[0]
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        label = any("label" in note or "button" in note for note in message.auto_comments)
        found += [(msgid, text, label) for text in strings]
    return found


def test_no_polish_message_uses_the_informal_ty() -> None:
    offenders = [(m, t) for m, t, _ in polish_messages() if INFORMAL.search(t)]
    assert offenders == []


def test_polish_messages_ask_formally_instead_of_commanding() -> None:
    offenders = [
        (m, t)
        for m, t, label in polish_messages()
        if not label and len(t) > 40 and IMPERATIVE.search(QUOTED.sub("", t))
    ]
    assert offenders == []


def test_the_ticket_area_speaks_to_the_customer_formally() -> None:
    pl = CATALOGS.gettext
    assert pl(ticket_dialogue.YOU, "pl") == "Państwo"
    assert pl(ticket_dialogue.LIST, "pl").startswith("Państwa zgłoszenia")


def test_the_guest_asks_the_practice_for_a_new_code_not_for_a_new_practice() -> None:
    from dialogs.steps import guest

    text = CATALOGS.gettext(guest.CODE_EXPIRED, "pl")
    assert "o nowy kod" in text
    assert "o nowy gabinet" not in text


def test_a_kazakhstani_number_not_a_kazakh_one() -> None:
    kk_numbers = [t for m, t, _ in polish_messages() if "+7" in m]
    assert kk_numbers
    assert all("kazachski" not in t for t in kk_numbers)
    assert any("kazachstański" in t for t in kk_numbers)
