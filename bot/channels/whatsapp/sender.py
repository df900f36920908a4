"""The outgoing half of WhatsApp: a turn's replies as Cloud API messages, paced, in order.

Used by the dispatcher (what committed turns owe: bot/dispatch.py) like Telegram's sender.

* **Pacing**: every message first waits for its slot — our number's messages per second, and
  the pair rate (one business number to one customer: Meta documents about one message every
  six seconds, with bursts); the same pacer as Telegram's (shared in Redis when set). A
  131056 (pair rate) holds that customer's queue, a 130429 (throughput) the whole number's,
  and the message is tried again: late, never lost.
* **The window**: outside the 24 hours since the customer last wrote (bot/channels/whatsapp/
  window.py) a reply goes out as the approved template of its language, the reply's text as
  its one parameter; a 131047 from the API (the window closed while we looked) does the same.
  A reply is never dropped for the window: without a template for the language, the default
  template is used.
* **Failures** left to the dispatcher: :class:`WhatsAppUnavailable` (passing: tried again
  later), :class:`WhatsAppRefused` (final: logged and dropped by the dispatcher).
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from bot.channels.whatsapp.api import GraphClient, Payload
from bot.channels.whatsapp.errors import (
    WhatsAppRateLimited,
    WhatsAppRefused,
    WhatsAppUnavailable,
    WindowClosed,
)
from bot.channels.whatsapp.render import Rendered, WhatsAppRenderer
from bot.channels.whatsapp.window import Sent, WindowStore, is_open
from bot.ops import metrics
from dialogs.replies import Reply

log = logging.getLogger(__name__)

RATE_LIMIT_ATTEMPTS = 30
TEMPLATE_PARAMETER_LIMIT = 1000
_BREAKS = re.compile(r"\s*\n\s*|\t| {4,}")  # a template parameter takes none of these


class Pacer(Protocol):
    """What the sender needs of the outgoing limits (Telegram's pacers, which it reuses:
    bot/channels/telegram/ratelimit.py)."""

    async def wait(self, chat_id: int | str | None) -> None: ...

    async def hold(self, chat_id: int | str | None, seconds: float) -> None: ...


@dataclass(frozen=True, slots=True)
class Templates:
    """The approved template sent outside the window: its name per locale (a default for the
    others) and the language code it was approved in (the locale itself unless mapped)."""

    default: str
    names: Mapping[str, str] = field(default_factory=dict)
    languages: Mapping[str, str] = field(default_factory=dict)

    def message(self, locale: str, text: str) -> Payload:
        parameter = _BREAKS.sub(" · ", text).strip()[:TEMPLATE_PARAMETER_LIMIT] or "…"
        return {
            "type": "template",
            "template": {
                "name": self.names.get(locale, self.default),
                "language": {"code": self.languages.get(locale, locale)},
                "components": [
                    {"type": "body", "parameters": [{"type": "text", "text": parameter}]}
                ],
            },
        }


class WhatsAppSender:
    """WhatsApp as a :class:`bot.channels.base.Channel`."""

    name = "whatsapp"

    def __init__(
        self,
        client: GraphClient,
        renderer: WhatsAppRenderer,
        windows: WindowStore,
        templates: Templates,
        *,
        clock: Callable[[], float],
        pacer: Pacer | None = None,
        pair_hold_seconds: float = 6.0,
        number_hold_seconds: float = 1.0,
    ) -> None:
        self.client = client
        self.renderer = renderer
        self.windows = windows
        self.templates = templates
        self.clock = clock
        self.pacer = pacer
        self.pair_hold_seconds = pair_hold_seconds
        self.number_hold_seconds = number_hold_seconds

    def passing(self, exc: BaseException) -> bool:
        """Tried again later: no answer, a 5xx, the shared pacing's Redis."""
        from bot.channels.telegram.ratelimit import PacingUnavailable  # noqa: PLC0415

        return isinstance(exc, WhatsAppUnavailable | PacingUnavailable)

    def final(self, exc: BaseException) -> bool:
        """The Graph API refuses the message as it is: sending it again cannot help."""
        return isinstance(exc, WhatsAppRefused)

    def conversation(self, chat_id: int) -> str:
        return f"{self.client.phone_number_id}:{chat_id}"

    async def send(self, chat_id: int, replies: Iterable[Reply], locale: str) -> None:
        """Each reply as one or more messages, in order (see the module's docstring)."""
        conversation = self.conversation(chat_id)
        window_open = is_open(await self.windows.last_inbound(conversation), self.clock())
        menus: list[tuple[str, ...] | None] = []
        for reply in replies:
            rendered = self.renderer.reply(reply, locale)
            if window_open:
                try:
                    await self._send_rendered(chat_id, rendered, locale)
                except WindowClosed:
                    window_open = False
                    metrics.whatsapp_event("window_closed_on_send")
                else:
                    if reply.buttons:
                        menus.append(rendered.menu)
                    continue
            await self._template(chat_id, rendered, locale)
        if menus:
            await self.windows.set_menu(conversation, menus[-1])

    async def media(self, chat_id: int, payload: Payload, plain: str, locale: str) -> None:
        """A file (an agent's), or outside the window the template with its caption: the
        approved template carries no file, so the customer is told one is waiting."""
        conversation = self.conversation(chat_id)
        if is_open(await self.windows.last_inbound(conversation), self.clock()):
            try:
                await self._free_form(chat_id, payload, locale)
                return
            except WindowClosed:
                metrics.whatsapp_event("window_closed_on_send")
        await self.message(chat_id, self.templates.message(locale, plain))

    async def _send_rendered(self, chat_id: int, rendered: Rendered, locale: str) -> None:
        if rendered.document is not None:
            document = rendered.document
            media_id = await self.client.upload(
                document.content.encode(), document.filename, document.mime_type
            )
            body = {"id": media_id, "filename": document.filename}
            if rendered.caption:
                body["caption"] = rendered.caption
            await self._free_form(chat_id, {"type": "document", "document": body}, locale)
        for payload in rendered.messages:
            await self._free_form(chat_id, payload, locale)

    async def _free_form(self, chat_id: int, payload: Payload, locale: str) -> None:
        """A message only the window allows: what it said is kept two days, so that a 131047
        Meta reports later (a status webhook) sends it again as the template."""
        wamid = await self.message(chat_id, payload)
        sent = Sent(self.conversation(chat_id), locale, said(payload), self.clock())
        await self.windows.remember(wamid, sent)

    async def _template(self, chat_id: int, rendered: Rendered, locale: str) -> None:
        metrics.whatsapp_event("template_sent")
        log.info("outside the window: a reply sent as the %s template", locale)
        await self.message(chat_id, self.templates.message(locale, rendered.plain))

    async def message(self, chat_id: int, payload: Payload) -> str:
        """One message, paced; rate limits waited out. Its ``wamid``."""
        for _ in range(RATE_LIMIT_ATTEMPTS - 1):
            if self.pacer is not None:
                await self.pacer.wait(chat_id)
            try:
                return await self.client.send(str(chat_id), payload)
            except WhatsAppRateLimited as exc:
                await self._hold(chat_id, exc)
        if self.pacer is not None:
            await self.pacer.wait(chat_id)
        return await self.client.send(str(chat_id), payload)

    async def _hold(self, chat_id: int, exc: WhatsAppRateLimited) -> None:
        pair = exc.pair
        seconds = self.pair_hold_seconds if pair else self.number_hold_seconds
        metrics.whatsapp_event("pair_rate_limited" if pair else "throughput_limited")
        log.warning("WhatsApp rate limit %s; retrying in %.1f s", exc.code, seconds)
        if self.pacer is not None and not pair:
            await self.pacer.hold(None, seconds)  # the whole number's calendar waits
        else:  # this customer's queue (delivered in order) waits; a pacer hold would also
            await asyncio.sleep(seconds)  # use up the pair's burst, minutes at 1 per 6 s


def said(payload: Payload) -> str:
    """The words a message carries (a link's URL too), for a template's parameter."""
    kind = payload["type"]
    if kind == "text":
        return str(payload["text"]["body"])
    if kind == "interactive":
        interactive = payload["interactive"]
        text = str(interactive["body"]["text"])
        if interactive["type"] == "cta_url":
            text += " " + str(interactive["action"]["parameters"]["url"])
        return text
    return str(payload.get(kind, {}).get("caption", ""))
