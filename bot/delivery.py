"""Delivery of mails and SMS behind :class:`dialogs.ports.Delivery`.

:func:`build_delivery` picks per channel: SMTP (:mod:`bot.mail`) when ``SMTP_HOST`` is set, the
HTTP gateway (:mod:`bot.sms`) when ``SMS_GATEWAY_URL`` is set, else the development sink, which
prints instead of sending (so ``make run`` works with no settings).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from dialogs.errors import DeliveryError
from dialogs.i18n import Catalogs
from dialogs.ports import Delivery, Outgoing
from dialogs.render import render
from dialogs.replies import Text

if TYPE_CHECKING:
    from bot.config import Settings

log = logging.getLogger(__name__)


def render_outgoing(message: Outgoing, catalogs: Catalogs) -> tuple[str, str]:
    subject = render(Text(message.subject, message.params), catalogs, message.locale)
    body = render(Text(message.body, message.params), catalogs, message.locale)
    return subject, body


def development_text(channel: str, to: str, subject: str, body: str) -> str:
    """A mail as a header line and its indented body; an SMS (no subject) on one line."""
    if channel == "sms" or not subject:
        return f"[development {channel} to {to}] {' '.join(body.split())}"
    lines = [line for line in body.splitlines() if line.strip()]
    return "\n".join(
        [f"[development {channel} to {to}] Subject: {subject}", *(f"    {line}" for line in lines)]
    )


class DevelopmentDelivery:
    """Prints each message (development only: the text holds the one-time code)."""

    def __init__(self, catalogs: Catalogs, echo: Callable[[str], None] | None = None) -> None:
        self.catalogs = catalogs
        self.echo = echo
        self.sent: list[tuple[Outgoing, str, str]] = []

    async def send(self, message: Outgoing) -> None:
        subject, body = render_outgoing(message, self.catalogs)
        self.sent.append((message, subject, body))
        line = development_text(message.channel, message.to, subject, body)
        if self.echo is not None:
            self.echo(line)
        else:
            log.warning("%s", line)


class ChannelDelivery:
    """Routes each message to the delivery of its channel (``email``, ``sms``)."""

    def __init__(self, channels: Mapping[str, Delivery]) -> None:
        self.channels = dict(channels)

    async def send(self, message: Outgoing) -> None:
        delivery = self.channels.get(message.channel)
        if delivery is None:
            raise DeliveryError(message.channel, "no delivery configured for this channel")
        await delivery.send(message)


def build_delivery(settings: Settings, catalogs: Catalogs, fallback: Delivery) -> Delivery:
    """The real sender of each configured channel; ``fallback`` (the sink) for the others."""
    from bot.mail import SmtpConfig, SmtpMailer  # noqa: PLC0415 - they import this module
    from bot.sms import HttpSmsGateway  # noqa: PLC0415

    email, sms = fallback, fallback
    if settings.smtp_host:
        password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
        config = SmtpConfig(
            host=settings.smtp_host,
            port=settings.smtp_port,
            security=settings.smtp_security,
            user=settings.smtp_user,
            password=password,
            sender=settings.mail_from,
        )
        email = SmtpMailer(config, catalogs)
    if settings.sms_gateway_url:
        token = settings.sms_gateway_token
        secret = token.get_secret_value() if token else None
        sms = HttpSmsGateway(settings.sms_gateway_url, secret, catalogs)
    return ChannelDelivery({"email": email, "sms": sms})
