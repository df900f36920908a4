"""Telegram Mini App sign-in: the page opened from a ``web_app`` button proves who opened it.

Telegram hands the page ``initData`` (a query string, signed by Telegram with the bot's
token). The page's script copies it into every form; the server checks it as Telegram
documents (core.telegram.org/bots/webapps#validating-data-received-via-the-mini-app):

    secret = HMAC_SHA256(key="WebAppData", msg=bot_token)
    hash   = hex(HMAC_SHA256(key=secret, msg="\\n".join(sorted("k=v" for every field but hash))))

and then that ``auth_date`` is recent and ``user.id`` is the conversation's user. This is in
addition to the one-time token, never instead of it: outside Telegram the form carries no
``initData`` and the token alone opens the page, as before.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import json
from dataclasses import dataclass
from urllib.parse import parse_qsl

from dialogs.i18n import N_

INIT_DATA_FIELD = "init_data"
REFUSED = N_(
    "We could not confirm your Telegram account on this page. Please close it and open the "
    "link from the chat again."
)


class Refusal(enum.StrEnum):
    MALFORMED = "malformed"
    SIGNATURE = "signature"
    EXPIRED = "expired"
    OTHER_USER = "other_user"
    NO_BOT = "no_bot"  # initData sent to a deployment without a bot token


def _fields(init_data: str) -> dict[str, str] | None:
    try:
        pairs = parse_qsl(init_data, keep_blank_values=True, strict_parsing=True)
    except ValueError:
        return None
    fields = dict(pairs)
    return fields if len(fields) == len(pairs) and "hash" in fields else None


def _user_id(fields: dict[str, str]) -> int | None:
    try:
        user = json.loads(fields.get("user", ""))
    except ValueError:
        return None
    user_id = user.get("id") if isinstance(user, dict) else None
    return user_id if isinstance(user_id, int) and not isinstance(user_id, bool) else None


@dataclass(frozen=True, slots=True)
class MiniAppAuth:
    """Checks ``initData`` against the bot token; ``max_age`` in seconds."""

    bot_token: str | None
    max_age: int

    @staticmethod
    def _signature(bot_token: str, fields: dict[str, str]) -> str:
        secret = hmac.new(b"WebAppData", bot_token.encode(), hashlib.sha256).digest()
        check = "\n".join(f"{key}={fields[key]}" for key in sorted(fields) if key != "hash")
        return hmac.new(secret, check.encode(), hashlib.sha256).hexdigest()

    def refusal(self, init_data: str, *, user_id: int, now: float) -> Refusal | None:
        """None when ``init_data`` is Telegram's, fresh, and ``user_id``'s."""
        if self.bot_token is None:
            return Refusal.NO_BOT
        fields = _fields(init_data)
        if fields is None:
            return Refusal.MALFORMED
        if not hmac.compare_digest(self._signature(self.bot_token, fields), fields["hash"]):
            return Refusal.SIGNATURE
        auth_date = fields.get("auth_date", "")
        if not auth_date.isdigit() or now - int(auth_date) > self.max_age:
            return Refusal.EXPIRED
        if _user_id(fields) != user_id:
            return Refusal.OTHER_USER
        return None
