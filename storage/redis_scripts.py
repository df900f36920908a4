"""The state store's Lua scripts, and :class:`Script` (a source and its SHA1 for EVALSHA).

Each script touches only keys of one hash slot: a conversation's keys and its owed-items
index (``<prefix>:owed`` on one Redis; on a Redis Cluster the index of the conversation's
bucket, in the bucket's slot, see :mod:`storage.keys`).
"""

from __future__ import annotations

import hashlib


class Script:
    def __init__(self, source: str) -> None:
        self.source = source
        self.sha = hashlib.sha1(source.encode(), usedforsecurity=False).hexdigest()


# KEYS: state, seen. ARGV: update_id ('' when none).
# Returns -1 when the update was already committed, else {v, d} (nil when missing).
_BEGIN_LUA = """
if ARGV[1] ~= '' and redis.call('ZSCORE', KEYS[2], ARGV[1]) then
  return -1
end
return redis.call('HMGET', KEYS[1], 'v', 'd')
"""

_NOW_LUA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
"""

# KEYS: state, seen, owed, owed index. ARGV: expected version, data, ttl ms, update_id ('' when
# none), seen_limit, lease ms, index member, the SHA-1 of the data expected (the turn started
# from this process's last commit, storage/recent.py: the update is checked here as begin
# would; '' when it started from a read), then owed item id/blob pairs.
# Returns 0 on a conflict, -1 when the update was already committed, else 1 (written; this
# caller delivers what is owed) or 2 (written; an earlier turn's delivery is under way and
# takes these items too).
_COMMIT_LUA = (
    """
local expected = tonumber(ARGV[1])
if ARGV[8] ~= '' then
  if ARGV[4] ~= '' and redis.call('ZSCORE', KEYS[2], ARGV[4]) then
    return -1
  end
  local found = redis.call('HMGET', KEYS[1], 'v', 'd')
  if tonumber(found[1] or '0') ~= expected or not found[2]
      or redis.sha1hex(found[2]) ~= ARGV[8] then
    return 0
  end
elseif tonumber(redis.call('HGET', KEYS[1], 'v') or '0') ~= expected then
  return 0
end
redis.call('HSET', KEYS[1], 'v', tostring(expected + 1), 'd', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
if ARGV[4] ~= '' then
  redis.call('ZADD', KEYS[2], ARGV[4], ARGV[4])
  redis.call('ZREMRANGEBYRANK', KEYS[2], 0, -(tonumber(ARGV[5]) + 1))
  redis.call('PEXPIRE', KEYS[2], ARGV[3])
end
if #ARGV < 10 then
  return 1
end
local lead = redis.call('EXISTS', KEYS[3]) == 0
redis.call('HSET', KEYS[3], unpack(ARGV, 9))
"""
    + _NOW_LUA
    + """
if lead then
  redis.call('ZADD', KEYS[4], now + tonumber(ARGV[6]), ARGV[7])
  return 1
end
redis.call('ZADD', KEYS[4], 'NX', now, ARGV[7])
return 2
"""
)

# KEYS: owed index, then each conversation's owed items. ARGV: lease ms, then per conversation
# its index member, how many ids are done, those ids. For each conversation the done items are
# removed; its reply is {} (nothing else owed: the lease given up) or what is still owed (the
# lease renewed).
_SETTLE_MANY_LUA = (
    _NOW_LUA
    + """
local expiry = now + tonumber(ARGV[1])
local replies = {}
local at = 2
for i = 2, #KEYS do
  local member, done = ARGV[at], tonumber(ARGV[at + 1])
  at = at + 2
  if done > 0 then
    redis.call('HDEL', KEYS[i], unpack(ARGV, at, at + done - 1))
    at = at + done
  end
  if redis.call('EXISTS', KEYS[i]) == 0 then
    redis.call('ZREM', KEYS[1], member)
    replies[i - 1] = {}
  else
    redis.call('ZADD', KEYS[1], expiry, member)
    replies[i - 1] = redis.call('HGETALL', KEYS[i])
  end
end
return replies
"""
)

# KEYS: owed index. ARGV: lease ms, limit. Takes over conversations whose lease has ended.
_CLAIM_LUA = (
    _NOW_LUA
    + """
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, tonumber(ARGV[2]))
for _, member in ipairs(due) do
  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[1]), member)
end
return due
"""
)

# KEYS: owed index. ARGV: lease ms (0: end the lease now, for another process), members.
_RENEW_LUA = (
    _NOW_LUA
    + """
local score = now + tonumber(ARGV[1])
if tonumber(ARGV[1]) == 0 then
  score = 0
end
for i = 2, #ARGV do
  redis.call('ZADD', KEYS[1], 'XX', score, ARGV[i])
end
return #ARGV - 1
"""
)


# KEYS: state, seen. ARGV: the version read. Deletes both if the version is unchanged.
_PURGE_LUA = """
if redis.call('HGET', KEYS[1], 'v') ~= ARGV[1] then
  return 0
end
redis.call('DEL', KEYS[1], KEYS[2])
return 1
"""


# KEYS: owed, owed index. ARGV: member, item ids. Drops the items; the conversation leaves the
# index when nothing else is owed.
_DROP_OWED_LUA = """
redis.call('HDEL', KEYS[1], unpack(ARGV, 2))
if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('ZREM', KEYS[2], ARGV[1])
end
return 1
"""


BEGIN = Script(_BEGIN_LUA)
COMMIT = Script(_COMMIT_LUA)
SETTLE_MANY = Script(_SETTLE_MANY_LUA)
SETTLE_CHUNK = 100
"""Conversations settled by one SETTLE_MANY call at most (a script blocks the server meanwhile)."""
CLAIM = Script(_CLAIM_LUA)
RENEW = Script(_RENEW_LUA)
PURGE = Script(_PURGE_LUA)
DROP_OWED = Script(_DROP_OWED_LUA)
