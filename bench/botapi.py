"""A Bot API answered in-process: the bot's real clients, no network.

``InProcessBotApi`` is a :class:`telegram.request.BaseRequest`: ``Bot`` builds each request
exactly as it would for HTTP (``RequestData.json_payload`` is computed, as ``HTTPXRequest``
does), and gets Telegram-shaped JSON back. It is also the poster of the bot's own JSON client
(:meth:`InProcessBotApi.post_json`: the body it would send is decoded, the answer encoded).
Messages sent are kept per chat for the simulated customers to read (their buttons carry the
callback data to press). Telegram's side of a call (reading the request, writing the answer)
runs on Telegram's servers, not the bot's: it is done here with orjson, in both runs (this
and the aiogram reference's session), so that the simulation's own work weighs little in the
bench process's CPU.
"""

from __future__ import annotations

import itertools
import json
import time
from collections import defaultdict
from typing import Any

import orjson
from telegram.request import BaseRequest, RequestData

BOT_ID = 7000000001
TOKEN = f"{BOT_ID}:BENCHbenchBENCHbenchBENCHbenchBENCHben"
BOT_USER = {"id": BOT_ID, "is_bot": True, "first_name": "Bench", "username": "bench_bot"}
_GET_ME = {
    **BOT_USER,
    "can_join_groups": True,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
    "can_connect_to_business": False,
    "has_main_web_app": False,
    "has_topics_enabled": False,
}
_TRUE = json.dumps({"ok": True, "result": True}).encode()


class InProcessBotApi(BaseRequest):
    """Answers ``getMe``, ``sendMessage``, ``answerCallbackQuery`` (and any other call with
    ``true``) without a socket."""

    def __init__(self, keep: bool = True) -> None:
        self.keep = keep
        self.inbox: dict[int, list[dict[str, Any]]] = defaultdict(list)
        self.calls: dict[str, int] = defaultdict(int)
        self._ids = itertools.count(1)

    @property
    def read_timeout(self) -> float | None:
        return None

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    async def do_request(  # noqa: PLR0917 - BaseRequest's signature
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = None,
        write_timeout: Any = None,
        connect_timeout: Any = None,
        pool_timeout: Any = None,
    ) -> tuple[int, bytes]:
        endpoint = url.rsplit("/", 1)[-1]
        self.calls[endpoint] += 1
        if request_data is not None:
            request_data.json_payload  # noqa: B018 - the encoding HTTPXRequest would do
        if endpoint == "getMe":
            return 200, json.dumps({"ok": True, "result": _GET_ME}).encode()
        if endpoint == "sendMessage" and request_data is not None:
            return 200, self._send_message(request_data.parameters)
        return 200, _TRUE

    async def post_json(self, method: str, body: bytes) -> tuple[int, bytes]:
        """The face the JSON client posts to (bot/channels/telegram/client.py): the body decoded as
        the HTTP server would, the answer encoded."""
        self.calls[method] += 1
        if method == "sendMessage":
            return 200, self._send_message(orjson.loads(body))
        orjson.loads(body)
        return 200, _TRUE

    def _send_message(self, params: dict[str, Any]) -> bytes:
        chat_id = int(params["chat_id"])
        message: dict[str, Any] = {
            "message_id": next(self._ids),
            "from": BOT_USER,
            "chat": {"id": chat_id, "first_name": "Customer", "type": "private"},
            "date": int(time.time()),
            "text": params["text"],
        }
        markup = params.get("reply_markup")
        if isinstance(markup, str):
            markup = orjson.loads(markup)
        if markup and "inline_keyboard" in markup:
            message["reply_markup"] = markup
        if self.keep:
            self.inbox[chat_id].append(message)
        return orjson.dumps({"ok": True, "result": message})

    def take(self, chat_id: int) -> list[dict[str, Any]]:
        """The messages sent to ``chat_id`` since the last call."""
        return self.inbox.pop(chat_id, [])


def user(user_id: int, language_code: str = "en") -> dict[str, Any]:
    return {
        "id": user_id,
        "is_bot": False,
        "first_name": "Customer",
        "language_code": language_code,
    }


def text_update(update_id: int, user_id: int, text: str) -> dict[str, Any]:
    """A private-chat message as Telegram sends it (commands carry a ``bot_command`` entity)."""
    sender = user(user_id)
    message: dict[str, Any] = {
        "message_id": update_id,
        "from": sender,
        "chat": {"id": user_id, "first_name": "Customer", "type": "private"},
        "date": int(time.time()),
        "text": text,
    }
    if text.startswith("/"):
        length = len(text.split(" ", 1)[0])
        message["entities"] = [{"offset": 0, "length": length, "type": "bot_command"}]
    return {"update_id": update_id, "message": message}


def callback_update(update_id: int, user_id: int, data: str) -> dict[str, Any]:
    sender = user(user_id)
    return {
        "update_id": update_id,
        "callback_query": {
            "id": str(4278655576057498272 + update_id),
            "from": sender,
            "message": {
                "message_id": update_id,
                "from": BOT_USER,
                "chat": {"id": user_id, "first_name": "Customer", "type": "private"},
                "date": int(time.time()),
                "text": "…",
            },
            "chat_instance": str(-2291384178539442901 + user_id),
            "data": data,
        },
    }
