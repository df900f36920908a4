"""A fake Telegram Bot API server for tests, speaking Telegram's JSON over loopback HTTP.

    async with FakeBotApi(token="123456:TEST") as api:
        bot = telegram.Bot(api.token, base_url=f"{api.base_url}/bot",
                           base_file_url=f"{api.base_url}/file/bot")
        api.push(api.command(42, "/start", "payload"))
        ...
        [reply] = await api.wait_for_messages(42, 1)

Requests are accepted like the real server does: GET or POST, parameters from the query
string, ``application/x-www-form-urlencoded``, ``multipart/form-data`` (uploads) or
``application/json``; method names are case-insensitive. Form values are strings, and
non-text parameters (``chat_id``, ``reply_markup``, ...) are JSON-decoded, so ``api.calls``
holds e.g. ``reply_markup`` as a dict whichever encoding the client used.

Replies use Telegram's envelope: ``{"ok": true, "result": ...}`` or
``{"ok": false, "error_code": N, "description": "...", ["parameters": {...}]}``.
Shapes of updates and results come from ``tests/fakebotapi_updates.py``.
"""

from __future__ import annotations

import asyncio
import copy
import json
import re
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

import aiohttp
from aiohttp import web

try:  # the tests directory is a plain directory today, but may become a package
    from .fakebotapi_profile import BotProfile, ProfileError
    from .fakebotapi_updates import (
        JSON,
        TOPIC_ICON_COLORS,
        StoredFile,
        TelegramState,
        UpdateBuilders,
        now,
    )
except ImportError:
    from fakebotapi_profile import (  # type: ignore[import-not-found,no-redef]
        BotProfile,
        ProfileError,
    )
    from fakebotapi_updates import (  # type: ignore[import-not-found,no-redef]
        JSON,
        TOPIC_ICON_COLORS,
        StoredFile,
        TelegramState,
        UpdateBuilders,
        now,
    )

__all__ = ["JSON", "Call", "FakeBotApi", "UploadedFile"]


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


LONG_POLL_CAP = 1.0  # seconds: getUpdates never waits longer, to keep tests fast
_TOKEN_SHAPE = re.compile(r"\d+:[A-Za-z0-9_-]+")
_SECRET_SHAPE = re.compile(r"[A-Za-z0-9_-]{1,256}")
# Parameters that are text: kept as sent, never JSON-decoded ("123" stays a string).
_TEXT_PARAMS = _words(
    "text caption parse_mode callback_query_id inline_message_id name url "
    "secret_token file_id document photo video audio voice animation sticker "
    "thumbnail action icon_custom_emoji_id ip_address title description phone_number "
    "first_name last_name message_effect_id business_connection_id"
)
_CHAT_ACTIONS = _words(
    "typing upload_photo record_video upload_video record_voice upload_voice "
    "upload_document choose_sticker find_location record_video_note "
    "upload_video_note"
)
_FAULT_DESCRIPTIONS = {  # the captures in /work/shared/telegram-samples/error_*.json
    400: "Bad Request: can't parse entities: Unexpected end of name token at byte offset 291",
    403: "Forbidden: bot was blocked by the user",
}
_NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup"
    " are exactly the same as a current content and reply markup of the message"
)
# Update types sent when allowed_updates was never set (or set to []).
_DEFAULT_UPDATES = _words(
    "message edited_message channel_post edited_channel_post business_connection "
    "business_message edited_business_message deleted_business_messages inline_query "
    "chosen_inline_result callback_query shipping_query pre_checkout_query "
    "purchased_paid_media poll poll_answer my_chat_member chat_join_request "
    "chat_boost removed_chat_boost"
)
_NOT_COPIED = _words(
    "message_id from chat date edit_date message_thread_id reply_to_message "
    "is_topic_message reply_markup"
)


@dataclass
class Call:
    """One request to ``/bot<token>/<method>``; ``params`` are decoded."""

    method: str
    params: JSON
    time: float
    status: int = 200
    result: Any = None


@dataclass
class UploadedFile:
    """A multipart file part, as it appears in ``Call.params``."""

    filename: str | None
    content_type: str
    data: bytes


@dataclass
class _Fault:
    method: str
    status: int
    description: str
    parameters: JSON | None


@dataclass
class _Ok:
    result: Any
    description: str | None = None


class ApiError(Exception):
    """Raised by method handlers; becomes Telegram's error envelope."""

    def __init__(self, status: int, description: str, parameters: JSON | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters

    def response(self) -> web.Response:
        return _error(self.status, self.description, self.parameters)


def _error(status: int, description: str, parameters: JSON | None = None) -> web.Response:
    body: JSON = {"ok": False, "error_code": status, "description": description}
    if parameters:
        body["parameters"] = parameters
    return web.json_response(body, status=status)


def _bad(description: str) -> ApiError:
    return ApiError(400, f"Bad Request: {description}")


def _profile_errors(method: Callable[[JSON], Awaitable[Any]]) -> Callable[[JSON], Awaitable[Any]]:
    async def call(params: JSON) -> Any:
        try:
            return await method(params)
        except ProfileError as exc:
            raise _bad(str(exc)) from None

    return call


# -- request parsing --------------------------------------------------------------------------


def decode_param(name: str, value: Any) -> Any:
    """JSON-decode a string value unless the parameter is text (Bot API semantics)."""
    if not isinstance(value, str) or name in _TEXT_PARAMS:
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


async def read_params(request: web.Request) -> JSON:
    """Query string, then the body (JSON, urlencoded or multipart), decoded."""
    raw: JSON = dict(request.query)
    if request.can_read_body:
        if request.content_type == "application/json":
            try:
                body = await request.json()
            except ValueError as exc:
                raise _bad("can't parse JSON object") from exc
            if not isinstance(body, dict):
                raise _bad("JSON object expected")
            raw.update(body)
        else:
            for key, value in (await request.post()).items():
                raw[key] = _form_value(value)
    return {key: decode_param(key, value) for key, value in raw.items()}


def _form_value(value: Any) -> Any:
    if not isinstance(value, web.FileField):
        return value
    try:
        data = value.file.read()
    finally:
        value.file.close()
    return UploadedFile(value.filename, value.content_type, data)


def _int(params: JSON, name: str, description: str) -> int:
    value = params.get(name)
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise _bad(description)
    try:
        return int(value)
    except ValueError as exc:
        raise _bad(description) from exc


def _same_chat(a: Any, b: Any) -> bool:
    return str(a) == str(b)


def _check_markup(markup: Any) -> JSON | None:
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise _bad("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" not in markup:
        return markup
    rows = []
    for row in markup["inline_keyboard"]:
        if not isinstance(row, list) or not all(isinstance(button, dict) for button in row):
            raise _bad("can't parse inline keyboard button: InlineKeyboardButton expected")
        for button in row:
            data = button.get("callback_data")
            if data is not None and not 1 <= len(str(data).encode()) <= 64:
                raise _bad("BUTTON_DATA_INVALID")
        # Telegram re-serialises buttons with "text" first, whatever order the client used.
        rows.append([{"text": button.get("text"), **button} for button in row])
    return {**markup, "inline_keyboard": rows}


class FakeBotApi(UpdateBuilders):
    """Fake Bot API on ``127.0.0.1:<free port>``; an async context manager.

    ``forum=True`` makes supergroups the fake has not been told about forums (so
    ``createForumTopic`` works on them); ``supergroup()`` registers one explicitly.
    """

    def __init__(
        self,
        token: str = "123456:TEST",  # noqa: S107
        *,
        first_name: str = "Onboard Test Bot",
        username: str = "onboard_test_bot",
        forum: bool = False,
    ) -> None:
        self.token = token
        self.forum = forum
        self.state = TelegramState(_bot_user(token, first_name, username), default_forum=forum)
        self.calls: list[Call] = []
        self.webhook: JSON = {}
        self.blocked: set[int] = set()
        self._pending: list[JSON] = []
        self._faults: list[_Fault] = []
        self._cursors: dict[tuple[str, str], int] = {}
        self._changed = asyncio.Event()
        self._poll_generation = 0
        self._allowed_updates = _DEFAULT_UPDATES
        self._closing = False
        self._runner: web.AppRunner | None = None
        self._base_url: str | None = None
        self.profile = BotProfile()  # setMyCommands, setMyDescription ... (fakebotapi_profile)
        handlers = [*self._handlers(), *self.profile.handlers(_profile_errors)]
        self._methods = {name.lower(): (name, handler) for name, handler in handlers}
        self.app = web.Application(client_max_size=50 * 1024 * 1024)
        for verb in ("GET", "POST"):
            self.app.router.add_route(verb, "/bot{token}/{method}", self._handle_method)
            self.app.router.add_route(verb, "/file/bot{token}/{path:.+}", self._handle_file)

    # -- lifecycle ----------------------------------------------------------------------------

    async def __aenter__(self) -> FakeBotApi:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def start(self) -> None:
        runner = web.AppRunner(
            self.app, access_log=None, handle_signals=False, shutdown_timeout=1.0
        )
        await runner.setup()
        self._runner = runner
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        host, port = runner.addresses[0][:2]
        self._base_url = f"http://{host}:{port}"

    async def close(self) -> None:
        self._closing = True  # long polls return at once
        self._notify()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT``: use ``f"{base_url}/bot"`` as PTB's ``base_url``."""
        if self._base_url is None:
            raise RuntimeError("FakeBotApi is not started")
        return self._base_url

    @property
    def bot_id(self) -> int:
        return int(self.state.bot_user["id"])

    # -- test-side helpers --------------------------------------------------------------------

    def push(self, update: JSON) -> None:
        """Queue an update for ``getUpdates``."""
        self._pending.append(copy.deepcopy(update))
        self._notify()

    async def post_webhook(self, url: str, update: JSON, *, secret_token: str | None = None) -> int:
        """POST ``update`` to a webhook like Telegram does; returns the HTTP status."""
        headers = {"Content-Type": "application/json"}
        if secret_token is not None:
            headers["X-Telegram-Bot-Api-Secret-Token"] = secret_token
        async with (
            aiohttp.ClientSession() as session,
            session.post(url, data=json.dumps(update).encode(), headers=headers) as resp,
        ):
            await resp.read()
            return resp.status

    async def deliver(self, update: JSON) -> int | None:
        """To the webhook set by the bot (returns the status), else queued for polling."""
        if self.webhook.get("url"):
            secret = self.webhook.get("secret_token")
            return await self.post_webhook(self.webhook["url"], update, secret_token=secret)
        self.push(update)
        return None

    def fail_next(
        self,
        method: str,
        status: int = 429,
        retry_after: int = 1,
        *,
        description: str | None = None,
    ) -> None:
        """Make the next call of ``method`` (``"*"``: any method) fail; faults queue up."""
        parameters = {"retry_after": retry_after} if status == 429 else None
        if description is None:
            if status == 429:
                description = f"Too Many Requests: retry after {retry_after}"
            else:
                description = _FAULT_DESCRIPTIONS.get(status, HTTPStatus(status).phrase)
        self._faults.append(_Fault(method.lower(), status, description, parameters))

    def block(self, chat_id: int) -> None:
        """The user blocked the bot: sends to ``chat_id`` answer 403 from now on."""
        self.blocked.add(chat_id)

    def calls_to(self, method: str) -> list[Call]:
        return [call for call in self.calls if call.method.lower() == method.lower()]

    def sent_messages(self, chat_id: int | str | None = None) -> list[JSON]:
        """Decoded params of successful ``sendMessage`` calls, optionally for one chat."""
        return [
            call.params
            for call in self.calls_to("sendMessage")
            if call.status == 200
            and (chat_id is None or _same_chat(call.params.get("chat_id"), chat_id))
        ]

    def chat_messages(self, chat_id: int) -> list[JSON]:
        """Every message of the chat (user's and bot's) as stored now, i.e. after edits."""
        stored = self.state.messages.get(chat_id, {})
        return [copy.deepcopy(stored[key]) for key in sorted(stored)]

    async def wait_for_messages(
        self,
        chat_id: int | str,
        count: int,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> list[JSON]:
        """The next ``count`` messages sent to the chat since the previous wait for it."""
        return await self._wait_new(
            ("sendMessage", str(chat_id)), lambda: self.sent_messages(chat_id), count, timeout
        )

    async def wait_for_calls(
        self,
        method: str,
        count: int = 1,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> list[Call]:
        """The next ``count`` successful calls of ``method`` since the previous wait."""

        def done() -> list[Call]:
            return [call for call in self.calls_to(method) if call.status == 200]

        return await self._wait_new((method.lower(), "*"), done, count, timeout)

    async def _wait_new(
        self, key: tuple[str, str], items: Callable[[], list[Any]], count: int, seconds: float
    ) -> list[Any]:
        start = self._cursors.get(key, 0)
        if not await self._wait_until(lambda: len(items()) >= start + count, seconds):
            arrived = items()[start:]
            raise AssertionError(
                f"expected {count} new {key[0]} for {key[1]} within {seconds}s, "
                f"got {len(arrived)}: {arrived!r}"
            )
        self._cursors[key] = start + count
        return items()[start : start + count]

    # -- plumbing -----------------------------------------------------------------------------

    def _notify(self) -> None:
        """Wake every waiter (long polls, wait_for_*); they re-check their condition."""
        event, self._changed = self._changed, asyncio.Event()
        event.set()

    async def _wait_until(self, ready: Callable[[], bool], seconds: float) -> bool:
        deadline = asyncio.get_running_loop().time() + seconds
        while True:
            event = self._changed
            if ready():
                return True
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                return False
            try:
                async with asyncio.timeout(remaining):
                    await event.wait()
            except TimeoutError:
                return ready()

    async def _handle_method(self, request: web.Request) -> web.Response:
        token, method = request.match_info["token"], request.match_info["method"]
        if token != self.token:
            if _TOKEN_SHAPE.fullmatch(token):
                return _error(401, "Unauthorized")
            return _error(404, "Not Found")
        name, handler = self._methods.get(method.lower(), (method, None))
        try:
            params = await read_params(request)
        except ApiError as exc:
            return exc.response()
        call = Call(name, params, time.monotonic())
        self.calls.append(call)
        try:
            if handler is None:
                raise ApiError(404, "Not Found")
            self._raise_injected(name, params)
            result = await handler(params)
        except ApiError as exc:
            call.status = exc.status
            response = exc.response()
        except Exception as exc:  # a bug in the fake: visible in api.calls and to the client
            call.status = 500
            response = _error(500, f"Internal Server Error: fake Bot API: {exc!r}")
        else:
            ok = result if isinstance(result, _Ok) else _Ok(result)
            call.result = ok.result
            body: JSON = {"ok": True, "result": ok.result}
            if ok.description:
                body["description"] = ok.description
            response = web.json_response(body)
        self._notify()
        return response

    def _raise_injected(self, method: str, params: JSON) -> None:
        for fault in self._faults:
            if fault.method in (method.lower(), "*"):
                self._faults.remove(fault)
                raise ApiError(fault.status, fault.description, fault.parameters)
        chat_id = params.get("chat_id")
        if any(_same_chat(chat_id, blocked) for blocked in self.blocked):
            raise ApiError(403, _FAULT_DESCRIPTIONS[403])

    async def _handle_file(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return _error(401, "Unauthorized")
        path = request.match_info["path"]
        for stored in self.state.files.values():
            if stored.file_path == path:
                return web.Response(body=stored.content, content_type="application/octet-stream")
        return _error(404, "Not Found")

    def _handlers(self) -> Iterable[tuple[str, Callable[[JSON], Awaitable[Any]]]]:
        return [
            ("getMe", self._get_me),
            ("getUpdates", self._get_updates),
            ("setWebhook", self._set_webhook),
            ("deleteWebhook", self._delete_webhook),
            ("getWebhookInfo", self._get_webhook_info),
            ("sendMessage", self._send_message),
            ("editMessageText", self._edit_message_text),
            ("editMessageReplyMarkup", self._edit_message_reply_markup),
            ("answerCallbackQuery", self._answer_callback_query),
            ("sendChatAction", self._send_chat_action),
            ("copyMessage", self._copy_message),
            ("createForumTopic", self._create_forum_topic),
            ("getFile", self._get_file),
            ("sendDocument", self._send_document),
            ("sendPhoto", self._send_photo),
            ("getChat", self._get_chat),
        ]

    def _chat_id(self, params: JSON, name: str = "chat_id") -> int:
        if params.get(name) in (None, ""):
            raise _bad(f"{name} is empty")
        return _int(params, name, "chat not found")

    def _bot_send(self, chat_id: int, content: JSON, params: JSON) -> JSON:
        """Store a bot message in the chat and return it as Telegram does."""
        markup = _check_markup(params.get("reply_markup"))
        thread = None
        if params.get("message_thread_id") is not None:
            thread = _int(params, "message_thread_id", "message thread not found")
        reply_to = self._reply_target(chat_id, params)
        try:
            return self.state.compose(
                chat_id,
                self.state.bot_sender,
                content,
                thread_id=thread,
                reply_to=reply_to,
                reply_markup=markup,
            )
        except LookupError as exc:
            raise _bad("message to be replied not found") from exc

    def _reply_target(self, chat_id: int, params: JSON) -> int | None:
        reply = params.get("reply_parameters") or {}
        if not isinstance(reply, dict):
            raise _bad("can't parse reply parameters JSON object")
        if reply.get("message_id") is not None:
            message_id = _int(reply, "message_id", "message to be replied not found")
        elif params.get("reply_to_message_id") is not None:
            message_id = _int(params, "reply_to_message_id", "message to be replied not found")
        else:
            return None
        lenient = reply.get(
            "allow_sending_without_reply", params.get("allow_sending_without_reply")
        )
        if lenient and self.state.find(chat_id, message_id) is None:
            return None
        return message_id

    # -- methods: bot and updates -------------------------------------------------------------

    async def _get_me(self, params: JSON) -> JSON:
        return copy.deepcopy(self.state.bot_user)

    async def _get_updates(self, params: JSON) -> list[JSON]:
        if self.webhook.get("url"):
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active;"
                " use deleteWebhook to delete the webhook first",
            )
        self._poll_generation += 1
        generation = self._poll_generation
        self._notify()  # an older long poll ends with 409, as on Telegram
        self._confirm(int(params.get("offset") or 0))
        if params.get("allowed_updates") is not None:
            self._allowed_updates = frozenset(params["allowed_updates"] or _DEFAULT_UPDATES)
        self._drop_not_allowed()
        limit = min(max(int(params.get("limit") or 100), 1), 100)
        timeout = min(max(float(params.get("timeout") or 0), 0.0), LONG_POLL_CAP)

        def superseded() -> bool:
            return generation != self._poll_generation

        def ready() -> bool:
            return bool(self._pending) or self._closing or superseded()

        await self._wait_until(ready, timeout)
        self._drop_not_allowed()
        if superseded():
            raise ApiError(
                409,
                "Conflict: terminated by other getUpdates request;"
                " make sure that only one bot instance is running",
            )
        return copy.deepcopy(self._pending[:limit])

    def _drop_not_allowed(self) -> None:
        """Telegram never delivers update types left out of ``allowed_updates``."""
        allowed = self._allowed_updates
        self._pending = [u for u in self._pending if _update_type(u) in allowed]

    def _confirm(self, offset: int) -> None:
        """Updates below a positive offset are confirmed; a negative one keeps the last -N."""
        if offset > 0:
            self._pending = [u for u in self._pending if u["update_id"] >= offset]
        elif offset < 0:
            self._pending = self._pending[offset:]

    async def _set_webhook(self, params: JSON) -> _Ok:
        url = str(params.get("url") or "")
        if not url:
            return await self._delete_webhook(params)
        secret = params.get("secret_token")
        if secret is not None and not _SECRET_SHAPE.fullmatch(str(secret)):
            raise _bad("secret token contains unallowed characters")
        if params.get("drop_pending_updates"):
            self._pending.clear()
        if params.get("allowed_updates") is not None:
            self._allowed_updates = frozenset(params["allowed_updates"] or _DEFAULT_UPDATES)
        already = self.webhook.get("url") == url
        self.webhook = {
            "url": url,
            "secret_token": secret,
            "max_connections": int(params.get("max_connections") or 40),
            "allowed_updates": params.get("allowed_updates"),
        }
        return _Ok(True, "Webhook is already set" if already else "Webhook was set")

    async def _delete_webhook(self, params: JSON) -> _Ok:
        if params.get("drop_pending_updates"):
            self._pending.clear()
        had = bool(self.webhook.get("url"))
        self.webhook = {}
        return _Ok(True, "Webhook was deleted" if had else "Webhook is already deleted")

    async def _get_webhook_info(self, params: JSON) -> JSON:
        info: JSON = {
            "url": self.webhook.get("url", ""),
            "has_custom_certificate": False,
            "pending_update_count": len(self._pending),
        }
        if info["url"]:
            info["max_connections"] = self.webhook["max_connections"]
            info["ip_address"] = "127.0.0.1"
            if self.webhook.get("allowed_updates"):
                info["allowed_updates"] = self.webhook["allowed_updates"]
        return info

    # -- methods: messages --------------------------------------------------------------------

    async def _send_message(self, params: JSON) -> JSON:
        chat_id = self._chat_id(params)
        text = params.get("text")
        if text is None or str(text) == "":
            raise _bad("message text is empty")
        if len(str(text)) > 4096:
            raise _bad("message is too long")
        content: JSON = {"text": str(text)}
        if params.get("entities"):
            content["entities"] = params["entities"]
        return self._bot_send(chat_id, content, params)

    def _own_message(self, params: JSON) -> tuple[int, JSON]:
        chat_id = self._chat_id(params)
        if params.get("message_id") is None:
            raise _bad("message identifier is not specified")
        message_id = _int(params, "message_id", "message to edit not found")
        message = self.state.find(chat_id, message_id)
        if message is None:
            raise _bad("message to edit not found")
        if message["from"]["id"] != self.bot_id:
            raise _bad("message can't be edited")
        return chat_id, message

    async def _edit_message_text(self, params: JSON) -> JSON | bool:
        if params.get("inline_message_id"):
            return True
        text = params.get("text")
        if text is None or str(text) == "":
            raise _bad("message text is empty")
        _, message = self._own_message(params)
        if "text" not in message:
            raise _bad("there is no text in the message to edit")
        # Like Telegram: an edit without reply_markup removes the inline keyboard.
        changes: JSON = {"text": str(text), "entities": params.get("entities")}
        changes["reply_markup"] = _check_markup(params.get("reply_markup"))
        return self._edit(message, changes)

    async def _edit_message_reply_markup(self, params: JSON) -> JSON | bool:
        if params.get("inline_message_id"):
            return True
        _, message = self._own_message(params)
        return self._edit(message, {"reply_markup": _check_markup(params.get("reply_markup"))})

    def _edit(self, message: JSON, changes: JSON) -> JSON:
        base = {key: value for key, value in message.items() if key != "edit_date"}
        edited = {key: value for key, value in base.items() if key not in changes}
        edited.update({key: value for key, value in changes.items() if value})
        if edited == base:
            raise _bad(_NOT_MODIFIED)
        ordered: JSON = {}
        for key, value in edited.items():
            ordered[key] = value
            if key == "date":
                ordered["edit_date"] = now()
        return self.state.store(ordered)

    async def _answer_callback_query(self, params: JSON) -> bool:
        query_id = str(params.get("callback_query_id") or "")
        if query_id not in self.state.callback_query_ids:
            raise _bad("query is too old and response timeout expired or query ID is invalid")
        return True

    async def _send_chat_action(self, params: JSON) -> bool:
        self._chat_id(params)
        if params.get("action") not in _CHAT_ACTIONS:
            raise _bad("wrong parameter action in request")
        return True

    async def _copy_message(self, params: JSON) -> JSON:
        chat_id = self._chat_id(params)
        from_chat_id = self._chat_id(params, "from_chat_id")
        message_id = _int(params, "message_id", "message to copy not found")
        source = self.state.find(from_chat_id, message_id)
        if source is None:
            raise _bad("message to copy not found")
        if "forum_topic_created" in source:
            raise _bad("message can't be copied")
        content = {key: value for key, value in source.items() if key not in _NOT_COPIED}
        if "caption" in params:
            if len(str(params["caption"])) > 1024:  # Telegram: at most 1024 characters
                raise _bad("message caption is too long")
            content["caption"] = params["caption"]
        copied = self._bot_send(chat_id, content, params)
        return {"message_id": copied["message_id"]}

    async def _create_forum_topic(self, params: JSON) -> JSON:
        chat_id = self._chat_id(params)
        if not self.state.is_forum(chat_id):
            raise _bad("the chat is not a forum")
        name = str(params.get("name") or "")
        if not 1 <= len(name) <= 128:
            raise _bad("TOPIC_NAME_INVALID")
        created: JSON = {"name": name, "icon_color": params.get("icon_color", TOPIC_ICON_COLORS[0])}
        if params.get("icon_custom_emoji_id"):
            created["icon_custom_emoji_id"] = params["icon_custom_emoji_id"]
        thread_id = self.state.next_message_id(chat_id)
        self.state.store(self.state.topic_service_message(chat_id, thread_id, created))
        return {"message_thread_id": thread_id, **created}

    async def _get_chat(self, params: JSON) -> JSON:
        """``ChatFullInfo`` as far as tests need it (``is_forum`` for supergroups)."""
        chat_id = self._chat_id(params)
        chat = self.state.chat(chat_id)
        return {**chat, "accent_color_id": 0, "max_reaction_count": 11}

    # -- methods: files -----------------------------------------------------------------------

    async def _get_file(self, params: JSON) -> JSON:
        stored = self.state.files.get(str(params.get("file_id") or ""))
        if stored is None:
            raise _bad("invalid file_id")
        return stored.as_file()

    async def _send_document(self, params: JSON) -> JSON:
        chat_id = self._chat_id(params)
        stored = self._input_file(params.get("document"), "document")
        return self._bot_send(
            chat_id, self._media(params, "document", stored.as_document()), params
        )

    async def _send_photo(self, params: JSON) -> JSON:
        chat_id = self._chat_id(params)
        value = params.get("photo")
        if isinstance(value, str) and value in self.state.photos:
            sizes = self.state.photos[value]
        elif isinstance(value, UploadedFile):
            sizes = self.state.new_photo(by_bot=True, content=value.data)
        else:
            sizes = [self._input_file(value, "photo")]
        photo = [size.as_photo_size() for size in sizes]
        return self._bot_send(chat_id, self._media(params, "photo", photo), params)

    def _media(self, params: JSON, kind: str, value: Any) -> JSON:
        content: JSON = {kind: value}
        if params.get("caption"):
            content["caption"] = str(params["caption"])
        return content

    def _input_file(self, value: Any, kind: str) -> StoredFile:
        """A file_id of a known file, an upload, or an HTTP URL, like the real server."""
        if value is None or value == "":
            raise _bad(f"there is no {kind} in the request")
        if isinstance(value, UploadedFile):
            return self.state.new_file(
                kind,
                value.data,
                by_bot=True,
                file_name=value.filename,
                mime_type=value.content_type,
            )
        text = str(value)
        if text.startswith(("http://", "https://")):
            name = text.rstrip("/").rsplit("/", 1)[-1] or None
            return self.state.new_file(kind, b"", by_bot=True, file_name=name)
        stored = self.state.files.get(text)
        if stored is None:
            raise _bad("wrong file identifier/HTTP URL specified")
        if stored.kind != kind:
            raise _bad(f"can't use file of type {stored.kind.title()} as {kind.title()}")
        return stored


def _update_type(update: JSON) -> str:
    return next((key for key in update if key != "update_id"), "")


def _bot_user(token: str, first_name: str, username: str) -> JSON:
    """The ``getMe`` result (``response_getMe.json``), id = the token's numeric prefix."""
    prefix = token.split(":", 1)[0]
    if not prefix.isdigit():
        raise ValueError(f"a bot token starts with the bot's numeric id, got {token!r}")
    return {
        "id": int(prefix),
        "is_bot": True,
        "first_name": first_name,
        "username": username,
        "can_join_groups": True,
        "can_read_all_group_messages": False,
        "supports_inline_queries": False,
        "can_connect_to_business": False,
        "has_main_web_app": False,
        "has_topics_enabled": False,
    }
