"""The WhatsApp channel's parts, built from the settings for the composition root (bot/app.py).

The root builds these, then the webhook with its engine and dispatcher; nothing is set on an
object after it was built. Pacing reuses Telegram's pacers (bot/channels/telegram/ratelimit.py:
a GCRA per customer — the pair rate, with a burst — and one calendar for the business number), in
Redis when ``REDIS_URL`` is set so every worker shares them, keyed by the phone number id.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bot.channels.whatsapp.api import GraphClient
from bot.channels.whatsapp.render import WhatsAppRenderer
from bot.channels.whatsapp.sender import Templates, WhatsAppSender
from bot.channels.whatsapp.webhook import WhatsAppWebhook
from bot.channels.whatsapp.window import RedisWindows, SqlWindows, WindowStore
from dialogs.i18n import Catalogs
from dialogs.ports import Clock

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

    from bot.channels.telegram.group import TelegramGroup
    from bot.config import Settings
    from bot.dispatch import Dispatcher
    from bot.support.crossing import CrossChannelGroup
    from dialogs.engine import Engine


@dataclass(frozen=True)
class WhatsAppParts:
    """What the root wires: ``bot_id`` is the conversation keys' first part (the phone number
    id), so the dispatcher knows which replies are WhatsApp's."""

    bot_id: int
    client: GraphClient
    windows: WindowStore
    sender: WhatsAppSender
    pacer: Any  # bot.channels.telegram.ratelimit.Pacer

    def webhook(
        self, settings: Settings, engine: Engine, dispatcher: Dispatcher
    ) -> WhatsAppWebhook:
        secret, verify = settings.whatsapp_app_secret, settings.whatsapp_verify_token
        return WhatsAppWebhook(
            engine,
            dispatcher,
            self.windows,
            phone_number_id=self.client.phone_number_id,
            app_secret=secret.get_secret_value() if secret else "",
            verify_token=verify.get_secret_value() if verify else "",
            clock=self.sender.clock,
        )

    def agents_group(self, telegram: TelegramGroup, settings: Settings) -> CrossChannelGroup:
        """The Telegram agents' group, for WhatsApp's customers too."""
        from bot.channels.whatsapp.tickets import WhatsAppCustomers  # noqa: PLC0415
        from bot.support.crossing import CrossChannelGroup  # noqa: PLC0415

        customers = WhatsAppCustomers(self.sender, self.client)
        limit = settings.whatsapp_media_max_mb * 1024 * 1024
        return CrossChannelGroup(telegram, {"whatsapp": customers}, max_bytes=limit)

    async def close(self) -> None:
        await self.client.close()
        await self.windows.close()
        await self.pacer.close()


def build_whatsapp(
    settings: Settings, catalogs: Catalogs, db: AsyncEngine, clock: Clock
) -> WhatsAppParts:
    from bot.channels.telegram.ratelimit import OutgoingLimiter, TelegramLimits  # noqa: PLC0415

    assert settings.whatsapp_token is not None  # noqa: S101 - settings.whatsapp checked it
    number = str(settings.whatsapp_phone_number_id)
    client = GraphClient(
        settings.whatsapp_token.get_secret_value(),
        number,
        base=settings.whatsapp_api_base,
        version=settings.whatsapp_api_version,
    )
    limits = TelegramLimits(
        chat_rate=settings.whatsapp_pair_rate,
        chat_burst=settings.whatsapp_pair_burst,
        bot_rate=settings.whatsapp_number_rate,
    )
    windows: WindowStore
    if settings.redis_url:
        from bot.channels.telegram.shared_pacing import SharedPacer  # noqa: PLC0415 - only with Redis

        pacer: Any = SharedPacer.from_url(settings.redis_url, int(number), limits)
        windows = RedisWindows.from_url(settings.redis_url)
    else:
        pacer = OutgoingLimiter(limits)
        windows = SqlWindows(db)
    templates = Templates(
        settings.whatsapp_template,
        settings.whatsapp_template_names,
        settings.whatsapp_languages,
    )
    sender = WhatsAppSender(
        client,
        WhatsAppRenderer(catalogs),
        windows,
        templates,
        clock=clock,
        pacer=pacer,
        pair_hold_seconds=settings.whatsapp_pair_hold_seconds,
    )
    return WhatsAppParts(int(number), client, windows, sender, pacer)
