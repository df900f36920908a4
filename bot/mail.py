"""E-mail over SMTP (aiosmtplib): multipart plain text + HTML, in the customer's language.

The body holds what the flow asked for and nothing else (the bg mail: only the code, no link).
Passwords and the message text are never logged.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Literal

import aiosmtplib

from bot.delivery import render_outgoing
from dialogs.errors import DeliveryError
from dialogs.i18n import Catalogs
from dialogs.ports import Outgoing

Security = Literal["none", "starttls", "tls"]


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int = 587
    security: Security = "starttls"
    user: str | None = None
    password: str | None = None
    sender: str = "onboard@localhost"
    timeout: float = 20.0


def html_body(text: str, locale: str) -> str:
    """The plain text as simple HTML: every character escaped, paragraphs kept."""
    paragraphs = "".join(
        f"<p>{html.escape(part).replace(chr(10), '<br>')}</p>" for part in text.split("\n\n")
    )
    return (
        f'<!doctype html><html lang="{html.escape(locale)}"><head><meta charset="utf-8"></head>'
        f"<body>{paragraphs}</body></html>"
    )


def build_mail(message: Outgoing, catalogs: Catalogs, sender: str) -> EmailMessage:
    subject, body = render_outgoing(message, catalogs)
    mail = EmailMessage()
    mail["From"] = sender
    mail["To"] = message.to
    mail["Subject"] = subject
    mail["Date"] = formatdate(localtime=False)
    mail["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
    mail["Auto-Submitted"] = "auto-generated"
    mail.set_content(body)
    mail.add_alternative(html_body(body, message.locale), subtype="html")
    mail["Content-Language"] = message.locale  # after set_content, which drops Content-*
    return mail


class SmtpMailer:
    """:class:`dialogs.ports.Delivery` for the ``email`` channel."""

    def __init__(self, config: SmtpConfig, catalogs: Catalogs) -> None:
        self.config = config
        self.catalogs = catalogs

    async def send(self, message: Outgoing) -> None:
        c = self.config
        mail = build_mail(message, self.catalogs, c.sender)
        try:
            await aiosmtplib.send(
                mail,
                hostname=c.host,
                port=c.port,
                username=c.user,
                password=c.password,
                use_tls=c.security == "tls",
                start_tls=c.security == "starttls",
                timeout=c.timeout,
            )
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            raise DeliveryError("email", f"{type(exc).__name__} from {c.host}:{c.port}") from exc
