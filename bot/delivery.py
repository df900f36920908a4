"""Delivery of mails and SMS. The development sink prints them instead of sending.

Real SMTP and SMS gateways come behind the same :class:`dialogs.ports.Delivery` interface.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from dialogs.i18n import Catalogs
from dialogs.ports import Outgoing
from dialogs.render import render
from dialogs.replies import Text

log = logging.getLogger(__name__)


def render_outgoing(message: Outgoing, catalogs: Catalogs) -> tuple[str, str]:
    subject = render(Text(message.subject, message.params), catalogs, message.locale)
    body = render(Text(message.body, message.params), catalogs, message.locale)
    return subject, body


class DevelopmentDelivery:
    """Prints each message (development only: the text holds the one-time code)."""

    def __init__(self, catalogs: Catalogs, echo: Callable[[str], None] | None = None) -> None:
        self.catalogs = catalogs
        self.echo = echo
        self.sent: list[tuple[Outgoing, str, str]] = []

    async def send(self, message: Outgoing) -> None:
        subject, body = render_outgoing(message, self.catalogs)
        self.sent.append((message, subject, body))
        line = f"[development {message.channel} to {message.to}] {subject}: {body}"
        if self.echo is not None:
            self.echo(line)
        else:
            log.warning("%s", line)
