"""The bot's profile methods of the fake Bot API: the command menu and the descriptions.

As on Telegram: ``setMyCommands`` (at most 100 commands; a command is 1-32 of a-z, 0-9 and
``_``; a description 1-256 characters), ``setMyDescription`` (0-512) and
``setMyShortDescription`` (0-120), each per ``scope`` and ``language_code`` (empty or two
letters), read back with ``getMyCommands`` / ``getMyDescription`` / ``getMyShortDescription``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from typing import Any

JSON = dict[str, Any]
Handler = Callable[[JSON], Awaitable[Any]]
_COMMAND = re.compile(r"[a-z0-9_]{1,32}")
_LANGUAGE = re.compile(r"(?:[a-z]{2})?")
DEFAULT_SCOPE = {"type": "default"}


class ProfileError(Exception):
    """A 400 of the profile methods (raised as the fake's ApiError by the server)."""


class BotProfile:
    """What the bot set; keyed by (scope JSON, language code)."""

    def __init__(self) -> None:
        self.commands: dict[tuple[str, str], list[JSON]] = {}
        self.descriptions: dict[str, str] = {}
        self.short_descriptions: dict[str, str] = {}

    @staticmethod
    def _language(params: JSON) -> str:
        language = str(params.get("language_code") or "")
        if not _LANGUAGE.fullmatch(language):
            raise ProfileError("invalid language code specified")
        return language

    @staticmethod
    def _scope(params: JSON) -> str:
        scope = params.get("scope") or DEFAULT_SCOPE
        if not isinstance(scope, dict) or "type" not in scope:
            raise ProfileError("can't parse BotCommandScope JSON object")
        return json.dumps(scope, sort_keys=True)

    async def set_my_commands(self, params: JSON) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise ProfileError("can't parse commands JSON object")
        for command in commands:
            name = str(command.get("command", "")) if isinstance(command, dict) else ""
            if not _COMMAND.fullmatch(name):
                raise ProfileError("BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", ""))) <= 256:
                raise ProfileError("BOT_COMMAND_DESCRIPTION_INVALID")
        self.commands[(self._scope(params), self._language(params))] = [
            {"command": c["command"], "description": c["description"]} for c in commands
        ]
        return True

    async def get_my_commands(self, params: JSON) -> list[JSON]:
        return list(self.commands.get((self._scope(params), self._language(params)), []))

    async def set_my_description(self, params: JSON) -> bool:
        text = str(params.get("description") or "")
        if len(text) > 512:
            raise ProfileError("BOT_DESCRIPTION_INVALID")
        self.descriptions[self._language(params)] = text
        return True

    async def get_my_description(self, params: JSON) -> JSON:
        return {"description": self.descriptions.get(self._language(params), "")}

    async def set_my_short_description(self, params: JSON) -> bool:
        text = str(params.get("short_description") or "")
        if len(text) > 120:
            raise ProfileError("BOT_SHORT_DESCRIPTION_INVALID")
        self.short_descriptions[self._language(params)] = text
        return True

    async def get_my_short_description(self, params: JSON) -> JSON:
        language = self._language(params)
        return {"short_description": self.short_descriptions.get(language, "")}

    def handlers(self, wrap: Callable[[Handler], Handler]) -> list[tuple[str, Handler]]:
        methods = {
            "setMyCommands": self.set_my_commands,
            "getMyCommands": self.get_my_commands,
            "setMyDescription": self.set_my_description,
            "getMyDescription": self.get_my_description,
            "setMyShortDescription": self.set_my_short_description,
            "getMyShortDescription": self.get_my_short_description,
        }
        return [(name, wrap(method)) for name, method in methods.items()]
