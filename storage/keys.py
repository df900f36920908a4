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
        return f"{self.prefix}:{{{key.text}}}"

    def state(self, key: ConversationKey) -> str:
        return f"{self.tag(key)}:conv"

    def state_pattern(self) -> str:
        """A SCAN pattern matching every conversation's state key."""
        return f"{self.prefix}:{{*}}:conv"

    def seen(self, key: ConversationKey) -> str:
        return f"{self.tag(key)}:seen"

    def owed(self, key: ConversationKey) -> str:
        """The conversation's undelivered replies and effects (see storage.redis_state)."""
        return f"{self.tag(key)}:owed"

    def owed_index(self) -> str:
        """Every conversation with something owed, scored by when its delivery lease ends."""
        return f"{self.prefix}:owed"
