"""The ticket card the agents see first (HTML; every value from a customer or the CRM is
escaped), and the topic's name."""

from __future__ import annotations

import html
from datetime import UTC, datetime

from babel.dates import format_datetime

from bot.channels.telegram.render import TELEGRAM_TEXT_LIMIT, fit
from dialogs.i18n import LANGUAGE_NAMES, N_, Catalogs
from dialogs.ports import TicketKind
from storage.ticket_records import TicketRecord

TOPIC_NAME_LIMIT = 128
KINDS = {
    TicketKind.TICKET: N_("Support ticket"),
    TicketKind.HELP: N_("Request for a person (/human)"),
    TicketKind.CALLBACK: N_("Callback request"),
}
CUSTOMER = N_("Customer")
UNREGISTERED = N_("not registered")
TELEGRAM_USER = N_("Telegram user")
CONTRACT = N_("Contract")
DEVICE = N_("Device")
LANGUAGE = N_("Language")
CC = N_("CC")
CALL_BACK_BY = N_("Call back by")
FLOW = N_("Flow")
STEP = N_("Step")
DESCRIPTION = N_("Description")
ATTACHMENTS_FOLLOW = N_("Attachments follow: {count}")


def escape(value: object) -> str:
    return html.escape(str(value), quote=False)


def moment(at: float, locale: str) -> str:
    when = datetime.fromtimestamp(at, UTC)
    return f"{format_datetime(when, 'short', tzinfo=UTC, locale=locale)} UTC"


def split_text(text: str, room: int) -> list[str]:
    """``text`` in pieces whose HTML-escaped form each takes at most ``room`` characters, cut
    at a line break or a space where one is near: nothing is lost (an agent's or customer's
    4,096-character message inside our wrapper would be refused or cut otherwise)."""
    pieces: list[str] = []
    rest = text
    while len(escape(rest)) > room:
        low, high = 1, len(rest)
        while low < high:  # the longest prefix whose escaped form fits
            middle = (low + high + 1) // 2
            if len(escape(rest[:middle])) <= room:
                low = middle
            else:
                high = middle - 1
        cut = max(rest.rfind("\n", 0, low), rest.rfind(" ", 0, low))
        cut = cut + 1 if cut > low // 2 else low
        pieces.append(rest[:cut])
        rest = rest[cut:]
    return [*pieces, rest] if rest or not pieces else pieces


def topic_name(ticket: TicketRecord) -> str:
    return f"#{ticket.id} {' '.join(ticket.title.split())}"[:TOPIC_NAME_LIMIT]


def card(
    ticket: TicketRecord,
    catalogs: Catalogs,
    locale: str,
    attachments: int = 0,
    *,
    user: str | None = None,
) -> str:
    """The card in the agents' ``locale``: labels translated, values escaped. ``user``: the
    Telegram user's name and @username (from the Bot API), shown with the user id."""

    def label(msgid: str) -> str:
        return escape(catalogs.gettext(msgid, locale))

    def line(msgid: str, value: object) -> str:
        return f"<b>{label(msgid)}:</b> {escape(value)}"

    customer = ticket.customer_name or catalogs.gettext(UNREGISTERED, locale)
    if ticket.customer_id is not None:
        customer = f"{customer} (CRM {ticket.customer_id})"
    lines = [
        f"🎫 <b>#{ticket.id} {escape(ticket.title)}</b>",
        f"<i>{label(KINDS[ticket.kind])}</i>",
        line(CUSTOMER, customer),
        line(TELEGRAM_USER, f"{user} · {ticket.key.user_id}" if user else ticket.key.user_id),
        line(LANGUAGE, LANGUAGE_NAMES.get(ticket.locale, ticket.locale)),
    ]
    lines += [line(CONTRACT, ticket.contract)] if ticket.contract else []
    lines += [line(DEVICE, ticket.device)] if ticket.device else []
    lines += [line(CC, ", ".join(ticket.cc))] if ticket.cc else []
    if ticket.due_at is not None:
        lines.append(f"⏰ {line(CALL_BACK_BY, moment(ticket.due_at, locale))}")
    if ticket.context is not None:
        context = ticket.context
        lines.append(line(FLOW, context.flow or "—"))
        lines.append(line(STEP, context.step or "—"))
        lines += [
            f"<b>{escape(name)}:</b> {escape(value)}" for name, value in context.details.items()
        ]
    lines += ["", f"<b>{label(DESCRIPTION)}:</b>"]
    footer: list[str] = []
    if attachments:
        text = catalogs.gettext(ATTACHMENTS_FOLLOW, locale).replace("{count}", str(attachments))
        footer = ["", f"📎 {escape(text)}"]
    room = TELEGRAM_TEXT_LIMIT - len("\n".join([*lines, "", *footer]))
    return "\n".join([*lines, fit(ticket.description or "—", room), *footer])
