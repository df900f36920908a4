"""Key builder for the Redis state store.

Every key of one conversation shares a Redis Cluster hash slot (the ``{...}`` tag), so one
Lua script may touch the state and its de-duplication set.
"""

from __future__ import annotations

from dataclasses import dataclass

from dialogs.events import ConversationKey


@dataclass(frozen=True, slots=True)
class KeyBuilder:
    prefix: str = "ob"

    def tag(self, key: ConversationKey) -> str:
        return f"{self.prefix}:{{{key.bot_id}:{key.chat_id}:{key.user_id}}}"

    def state(self, key: ConversationKey) -> str:
        return f"{self.tag(key)}:conv"

    def seen(self, key: ConversationKey) -> str:
        return f"{self.tag(key)}:seen"
