"""The reference: the same walk written the idiomatic aiogram 3 way — Router + FSM states,
``RedisStorage`` and ``RedisEventIsolation`` (a Redis lock per chat), one update per step —
with the Bot API answered in-process by an ``AiohttpSession`` that still builds the form and
validates the response model as it would over HTTP. Same records database and look-ups.

Bench-only dependency: ``aiogram>=3.13,<4``.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections import defaultdict
from typing import Any

import orjson

from bench.botapi import BOT_USER, TOKEN
from bench.customers import PinBox, Stats, drive
from bench.measure import RoundTrips, bytes_per_key_group, commands_total
from dialogs.events import ConversationKey
from dialogs.taxids import normalise_bg_eik
from storage.db import create_engine
from storage.hot_sql import hot_path
from storage.records import SqlRecords

INTRO, ASK_EIK, BAD_EIK = "Welcome!", "Step 1 of 3: your EIK.", "An EIK has 9 or 13 digits."
NOTICE = "Your EIK and e-mail are used only to register you: https://example.com/privacy"
ASK_EMAIL, NO_MATCH, WAIT = "Your e-mail?", "No match.", "You can ask for a new code soon."
CODE, WRONG, HANDOFF = "Enter the PIN.", "Wrong PIN.", "Create your password here."


def _session_class() -> Any:
    from aiogram.client.session.aiohttp import AiohttpSession  # noqa: PLC0415 - optional
    from aiogram.methods import SendMessage  # noqa: PLC0415

    class InProcessSession(AiohttpSession):  # type: ignore[misc]
        def __init__(self) -> None:
            super().__init__()
            self.inbox: dict[int, list[dict[str, Any]]] = defaultdict(list)
            self.ids = 0

        async def make_request(
            self,
            bot: Any,
            method: Any,
            timeout: int | None = None,  # noqa: ASYNC109 - aiogram's signature
        ) -> Any:
            self.build_form_data(bot=bot, method=method)  # what the HTTP session sends
            result: Any = True
            if isinstance(method, SendMessage):
                self.ids += 1
                result = {
                    "message_id": self.ids,
                    "from": BOT_USER,
                    "chat": {"id": method.chat_id, "first_name": "Customer", "type": "private"},
                    "date": int(time.time()),
                    "text": method.text,
                }
                if method.reply_markup is not None:
                    result["reply_markup"] = method.reply_markup.model_dump(exclude_none=True)
                self.inbox[int(method.chat_id)].append(result)
            content = orjson.dumps({"ok": True, "result": result}).decode()  # as bench/botapi.py
            response = self.check_response(bot=bot, method=method, status_code=200, content=content)
            return response.result

    return InProcessSession


def _router(records: SqlRecords, pins: PinBox) -> Any:
    from aiogram import F, Router  # noqa: PLC0415
    from aiogram.filters import CommandStart  # noqa: PLC0415
    from aiogram.fsm.context import FSMContext  # noqa: PLC0415
    from aiogram.fsm.state import State, StatesGroup  # noqa: PLC0415
    from aiogram.types import (  # noqa: PLC0415
        CallbackQuery,
        InlineKeyboardButton,
        InlineKeyboardMarkup,
        Message,
    )

    class Reg(StatesGroup):
        eik = State()
        email = State()
        code = State()
        password = State()

    router = Router()
    secret = b"bench-secret"

    @router.message(CommandStart())
    async def start(message: Message, state: FSMContext) -> None:
        await state.clear()
        await state.set_state(Reg.eik)
        await message.answer(INTRO)
        await message.answer(NOTICE)
        await message.answer(ASK_EIK)

    @router.message(Reg.eik, F.text)
    async def eik(message: Message, state: FSMContext) -> None:
        try:
            value = normalise_bg_eik(message.text or "")
        except ValueError:
            await message.answer(BAD_EIK)
            return
        await state.update_data(eik=value)
        await state.set_state(Reg.email)
        await message.answer(ASK_EMAIL)

    @router.message(Reg.email, F.text)
    async def email(message: Message, state: FSMContext) -> None:
        address = (message.text or "").strip().lower()
        data = await state.get_data()
        found = await records.match_customer(tax_scheme="bg_eik", tax_id=data["eik"], email=address)
        if found is None:
            await message.answer(NO_MATCH)
            return
        code = f"{secrets.randbelow(10**6):06d}"
        digest = hmac.new(secret, code.encode(), hashlib.sha256).hexdigest()
        await state.update_data(email=address, digest=digest, customer=found.customer_id)
        await state.set_state(Reg.code)
        await pins.send_code(address, code)
        keyboard = InlineKeyboardMarkup(
            inline_keyboard=[
                [InlineKeyboardButton(text="Send a new code", callback_data="resend")],
                [InlineKeyboardButton(text="Change the e-mail address", callback_data="change")],
            ]
        )
        await message.answer(CODE, reply_markup=keyboard)

    @router.callback_query(Reg.code, F.data == "resend")
    async def resend(query: CallbackQuery) -> None:
        await query.answer()
        if query.message is not None:
            await query.message.answer(WAIT)

    @router.message(Reg.code, F.text)
    async def pin(message: Message, state: FSMContext) -> None:
        data = await state.get_data()
        entered = hmac.new(secret, (message.text or "").encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(entered, data["digest"]):
            await message.answer(WRONG)
            return
        token = secrets.token_urlsafe(32)
        user = message.from_user.id if message.from_user else 0
        await records.store_token(
            token_hash=hashlib.sha256(token.encode()).hexdigest(),
            purpose="password",
            key=ConversationKey(0, message.chat.id, user),
            customer_id=data["customer"],
            locale="en",
            expires_at=time.time() + 900,
        )
        await state.set_state(Reg.password)
        link = InlineKeyboardButton(text="Create my password", url=f"https://x.example/{token}")
        await message.answer(HANDOFF, reply_markup=InlineKeyboardMarkup(inline_keyboard=[[link]]))

    return router


async def run(redis_url: str, database_url: str, customers: int, in_flight: int) -> Stats:
    from aiogram import Bot, Dispatcher  # noqa: PLC0415
    from aiogram.fsm.storage.redis import RedisEventIsolation, RedisStorage  # noqa: PLC0415
    from redis.asyncio import Redis  # noqa: PLC0415

    redis: Redis = Redis.from_url(redis_url, max_connections=4 * in_flight + 16)
    storage = RedisStorage(redis)
    dp = Dispatcher(storage=storage, events_isolation=RedisEventIsolation(redis))
    db = create_engine(database_url)
    pins = PinBox()
    records = SqlRecords(db, hot_path(db))  # the same SQL path as ours: the framework is compared
    dp.include_router(_router(records, pins))
    session = _session_class()()
    bot = Bot(TOKEN, session=session)

    async def deliver(update: dict[str, Any]) -> list[dict[str, Any]]:
        await dp.feed_raw_update(bot, update)
        sender = (update.get("message") or update["callback_query"])["from"]["id"]
        return session.inbox.pop(sender, [])

    try:
        await drive(min(customers, in_flight), in_flight, deliver, pins.wait)
        await redis.flushdb()
        with RoundTrips().installed() as trips:
            commands = await commands_total(redis)
            trips.reset()
            stats = await drive(customers, in_flight, deliver, pins.wait)
            stats.extra["round_trips"] = trips.exchanges
            stats.extra["socket_writes"] = trips.count
        stats.extra["commands"] = await commands_total(redis) - commands - 1
        stats.extra["bytes_per_conversation"] = await bytes_per_key_group(redis, "fsm:*", 2)
        return stats
    finally:
        await redis.flushdb()
        await bot.session.close()
        await dp.storage.close()
        await records.close()
        await db.dispose()
