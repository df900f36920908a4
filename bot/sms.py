"""SMS through a gateway: a generic HTTP JSON gateway, or the development sink (log only).

The HTTP gateway gets ``POST {"to": "+E164", "text": "..."}`` with ``Authorization: Bearer``;
any 2xx is success, anything else (or no answer) is a :class:`DeliveryError` for the courier
to retry. The text and the token are never logged.
"""

from __future__ import annotations

import logging

import aiohttp

from bot.delivery import render_outgoing
from dialogs.errors import DeliveryError
from dialogs.i18n import Catalogs
from dialogs.ports import Outgoing

log = logging.getLogger(__name__)


def sms_text(message: Outgoing, catalogs: Catalogs) -> str:
    """An SMS has no subject: just the rendered body."""
    return render_outgoing(message, catalogs)[1]


class HttpSmsGateway:
    """:class:`dialogs.ports.Delivery` for the ``sms`` channel over a JSON HTTP API."""

    def __init__(
        self, url: str, token: str | None, catalogs: Catalogs, *, timeout: float = 15.0
    ) -> None:
        self.url = url
        self.token = token
        self.catalogs = catalogs
        self.timeout = aiohttp.ClientTimeout(total=timeout)

    async def send(self, message: Outgoing) -> None:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        payload = {"to": message.to, "text": sms_text(message, self.catalogs)}
        try:
            async with (
                aiohttp.ClientSession(timeout=self.timeout) as session,
                session.post(self.url, json=payload, headers=headers) as response,
            ):
                if response.status // 100 != 2:
                    raise DeliveryError("sms", f"gateway answered HTTP {response.status}")
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise DeliveryError("sms", f"gateway unreachable: {type(exc).__name__}") from exc
