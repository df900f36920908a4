"""The composition root: the one place that builds and wires every part."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.backends import build_send_limiter, build_state_store, crm_config
from bot.channels.base import Nowhere, deliverer
from bot.channels.terminal import TerminalChat, TerminalScreen
from bot.config import Settings
from bot.delivery import DevelopmentDelivery, build_delivery
from bot.dispatch import Dispatcher
from bot.effects import EffectRunner
from bot.ops import metrics
from bot.ops.observe import TurnRecorder
from bot.outbox import DEFAULT_RETRY_DELAYS, Courier
from bot.privacy import PrivacyOffice
from bot.retention import retention_of, sweep
from bot.sealing import SealedCodec
from bot.support.desk import SupportDesk
from bot.web.links import InvitationEngine
from dialogs.engine import Engine
from dialogs.flow import FLOWS_DIR, FlowRegistry
from dialogs.i18n import DEFAULT_LOCALES_DIR, Catalogs
from dialogs.ports import Clock, Delivery, OwedStore, StateStore
from dialogs.steps.handoff import check_portal_settings
from dialogs.turn import LiveLookups, Services
from storage.contracts import SqlContracts
from storage.crm_http import HttpCrm
from storage.crm_mirror import CrmMirror
from storage.db import create_engine, get_or_create_secret, migrate
from storage.funnel import FunnelWriter
from storage.funnel import purge_before as purge_funnel
from storage.hot_sql import hot_path
from storage.invitations import SqlInvitations
from storage.privacy import SqlPrivacy
from storage.profiles import SqlGuestCodes, SqlProfiles
from storage.records import SqlRecords
from storage.tickets import SqlTickets

log = logging.getLogger(__name__)
DELIVERY_GRACE_SECONDS = 4.0
"""On shutdown, deliveries under way get this long; the rest stays owed for the next process."""


@dataclass(frozen=True)
class TelegramSetup:
    """Customers on Telegram: ``bot`` (python-telegram-bot's client, not yet initialised)
    and Telegram's pacing (None: none, the benchmark's in-process API); ``api``: the small JSON
    client the replies go through (bot/channels/telegram/client.py; its owner closes it)."""

    bot: Any  # telegram.Bot; imported where used, so the terminal chat does not load it
    limiter: Any = None  # bot.channels.telegram.ratelimit.Pacer (its owner closes it)
    api: Any = None  # channels.telegram.client.BotApiClient: JSON calls (None: all via bot)


@dataclass(frozen=True)
class TerminalSetup:
    """One customer in this terminal (``onboard chat``; ``onboard web`` without a token)."""

    out: Callable[[str], None] = print
    language: str | None = None


ChannelSetup = TelegramSetup | TerminalSetup


@dataclass
class App:
    settings: Settings
    db: AsyncEngine
    store: StateStore
    records: SqlRecords
    catalogs: Catalogs
    flows: FlowRegistry
    engine: Engine
    effects: EffectRunner
    delivery: Delivery
    clock: Clock
    dispatcher: Dispatcher
    crm: HttpCrm | None = None  # the company's CRM, when CRM_LOOKUP_URL is set
    transport: Any = None  # channels.telegram.transport.TelegramTransport, for a TelegramSetup
    terminal: Any = None  # bot.channels.terminal.TerminalChat, for a TerminalSetup
    funnel: FunnelWriter | None = None  # the funnel's step events, written in batches

    async def housekeeping(self) -> None:
        """Drop expired conversations from the embedded store (Redis expires keys itself),
        what outlived its RETAIN_* setting (bot/retention.py) and the funnel's step events
        older than FUNNEL_RETENTION_DAYS."""
        purge = getattr(self.store, "purge_expired", None)
        removed = await purge() if purge is not None else 0
        now = self.clock()
        swept = await sweep(self.store, self.db, retention_of(self.settings), now)
        steps = await purge_funnel(self.db, now - self.settings.funnel_retention_days * 86_400)
        if removed or swept or steps:  # quiet otherwise: the terminal chat shares this stderr
            log.info(
                "housekeeping: removed %s expired conversations, %s past retention, "
                "%s old funnel events",
                removed,
                swept,
                steps,
            )

    async def close(self) -> None:
        if self.transport is not None:
            await self.transport.close()
        await self.dispatcher.close(grace_seconds=DELIVERY_GRACE_SECONDS)
        if self.funnel is not None:
            await self.funnel.close()  # the last second's step events
        await self.effects.close()
        await self.store.close()
        await self.records.close()
        if self.crm is not None:
            await self.crm.close()
        await self.db.dispose()


async def build_app(
    settings: Settings,
    *,
    delivery: Delivery | None = None,
    clock: Clock = time.time,
    locales_dir: Path = DEFAULT_LOCALES_DIR,
    flows_dir: Path = FLOWS_DIR,
    migrate_schema: bool = True,
    channel: ChannelSetup | None = None,
    retry_delays: tuple[float, ...] = DEFAULT_RETRY_DELAYS,
) -> App:
    """Every part, wired. ``channel``: where customers are (None: no chat in this process,
    e.g. ``onboard crm``; what turns owe is then left to a process that has one)."""
    catalogs = Catalogs(locales_dir)
    flows = FlowRegistry.from_directory(flows_dir, known_messages=catalogs.template_ids)
    check_portal_settings(
        [step for flow in flows for step in flow.steps.values()], settings.portal_handoff_url
    )
    live_crm = crm_config(settings, flows)
    db = create_engine(settings.database_url, settings.pooling)
    if migrate_schema:
        await migrate(db)
    hot = hot_path(db, pooling=settings.pooling)  # asyncpg on PostgreSQL (closed with records)
    records = SqlRecords(db, hot)
    tickets = SqlTickets(db)
    contracts = SqlContracts(db)
    crm = None if live_crm is None else HttpCrm(live_crm, CrmMirror(db, contracts, clock))
    profiles = SqlProfiles(db)
    secret = (
        settings.secret_key.get_secret_value()
        if settings.secret_key
        else await get_or_create_secret(db, "code-hmac")
    )
    store = build_state_store(settings, db, clock)
    funnel = FunnelWriter(db, dropped=metrics.FUNNEL_DROPPED.inc, hot=hot)
    services = Services(
        records,
        catalogs,
        clock,
        secret.encode(),
        settings.public_url,
        link_ttl=settings.password_link_ttl_minutes * 60,
        portal_url=settings.portal_url,
        portal_handoff_url=settings.portal_handoff_url,
        contracts=contracts,
        tickets=tickets,
        profiles=profiles,
        guests=SqlGuestCodes(db),
        live=None if crm is None else LiveLookups(crm, crm, settings.crm_flows),
        time_zones=settings.zones,
        privacy_url=settings.privacy_url,
        retain_finished_days=settings.retain_finished_days,
    )
    codec = SealedCodec(secret.encode())
    engine: Engine = InvitationEngine(
        flows,
        store,
        services,
        invitations=SqlInvitations(db),
        default_flow=settings.default_flow,
        codec=codec,
        observer=TurnRecorder(funnel, secret.encode(), clock),
    )
    delivery = delivery or build_delivery(settings, catalogs, DevelopmentDelivery(catalogs))
    limiter = build_send_limiter(settings, db)
    await limiter.prepare()
    courier = Courier(delivery, retry_delays=retry_delays, clock=clock, limiter=limiter)
    sender = _telegram_sender(channel, catalogs)
    support = SupportDesk(
        tickets,
        catalogs,
        clock,
        locale=settings.support_locale,
        group=_support_group(settings, sender),
        mail=courier.submit,  # CC copies of agents' answers
    )
    effects = EffectRunner(
        courier,
        records,
        records,
        secret=secret.encode(),
        consents=contracts,
        support=support,
        profiles=profiles,
        privacy=PrivacyOffice(
            SqlPrivacy(db),
            store,
            secret=secret.encode(),
            support=support,
            delete_tickets=settings.forget_tickets == "delete",
        ),
    )
    owed = cast(OwedStore, store)  # both stores keep what turns owe (dialogs.ports)
    transport = terminal = None
    if isinstance(channel, TerminalSetup):
        screen = TerminalScreen(catalogs, out=channel.out)
        dispatcher = Dispatcher(owed, codec, deliverer(screen, effects), channel=screen.name)
        terminal = TerminalChat(engine, dispatcher, screen, language=channel.language)
    elif sender is not None:
        from bot.channels.telegram.transport import TelegramTransport  # noqa: PLC0415

        dispatcher = Dispatcher(owed, codec, deliverer(sender, effects), channel=sender.name)
        transport = TelegramTransport(sender, engine, dispatcher, support=support)
    else:
        nowhere = Nowhere()
        dispatcher = Dispatcher(owed, codec, deliverer(nowhere, effects), channel=nowhere.name)
    app = App(
        settings,
        db,
        store,
        records,
        catalogs,
        flows,
        engine,
        effects,
        delivery,
        clock,
        dispatcher,
        crm,
        transport=transport,
        terminal=terminal,
        funnel=funnel,
    )
    await app.housekeeping()
    if channel is not None:
        dispatcher.start()  # deliver what a process that died left owed
    return app


def _telegram_sender(channel: ChannelSetup | None, catalogs: Catalogs) -> Any:
    if not isinstance(channel, TelegramSetup):
        return None
    from bot.channels.telegram.render import TelegramRenderer  # noqa: PLC0415
    from bot.channels.telegram.sender import TelegramSender  # noqa: PLC0415

    return TelegramSender(
        channel.bot, TelegramRenderer(catalogs), limiter=channel.limiter, client=channel.api
    )


def _support_group(settings: Settings, sender: Any) -> Any:
    """The agents' group as a support channel, when this process talks to Telegram."""
    if sender is None or settings.support_chat_id is None:
        return None
    from bot.channels.telegram.group import TelegramGroup  # noqa: PLC0415

    topics = {"on": True, "off": False}.get(settings.support_topics)
    return TelegramGroup(sender, settings.support_chat_id, topics)
