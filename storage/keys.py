"""Key builder for the Redis state store.

Every key of one conversation shares a Redis Cluster hash slot (the ``{...}`` tag), so one
Lua script may touch the state and its de-duplication set.

On one Redis the tag is the conversation (``ob:{1:-100:42}:conv``) and one sorted set indexes
every conversation with something owed (``ob:owed``). On a Redis Cluster the commit script must
write the index in the conversation's own slot, so conversations are spread over ``buckets``
hash tags (``ob:{b17}:1:-100:42:conv``, the bucket a CRC32 of the conversation, the same in
every process) and each bucket has its index in its slot (``ob:owed:{b17}``): the dispatcher's
claim reads ``buckets`` small indexes instead of one. 256 buckets spread the conversations
over up to 256 primaries; moving a slot moves 1/256 of them.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

from dialogs.events import ConversationKey

CLUSTER_BUCKETS = 256


@dataclass(frozen=True, slots=True)
class KeyBuilder:
    prefix: str = "ob"
    buckets: int = 0  # 0: one Redis (a tag per conversation, one owed index)

    def bucket(self, key: ConversationKey) -> int:
        return zlib.crc32(key.text.encode()) % self.buckets

    def tag(self, key: ConversationKey) -> str:
        if self.buckets:
            return f"{self.prefix}:{{b{self.bucket(key)}}}:{key.text}"
        return f"{self.prefix}:{{{key.text}}}"

    def state(self, key: ConversationKey) -> str:
        return f"{self.tag(key)}:conv"

    def state_pattern(self) -> str:
        """A SCAN pattern matching every conversation's state key."""
        if self.buckets:
            return f"{self.prefix}:{{b*}}:*:conv"
        return f"{self.prefix}:{{*}}:conv"

    def seen(self, key: ConversationKey) -> str:
        return f"{self.tag(key)}:seen"

    def owed(self, key: ConversationKey) -> str:
        """The conversation's undelivered replies and effects (see storage.redis_state)."""
        return f"{self.tag(key)}:owed"

    def owed_index(self, key: ConversationKey | None = None) -> str:
        """The conversations with something owed (all of them, or ``key``'s bucket's on a
        cluster), scored by when their delivery lease ends."""
        if self.buckets and key is not None:
            return self.bucket_index(self.bucket(key))
        return f"{self.prefix}:owed"

    def bucket_index(self, bucket: int) -> str:
        return f"{self.prefix}:owed:{{b{bucket}}}"

    def owed_indexes(self) -> list[str]:
        """Every owed index there is: one, or one per bucket."""
        if self.buckets:
            return [self.bucket_index(n) for n in range(self.buckets)]
        return [self.owed_index()]
