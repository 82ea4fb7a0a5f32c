#pragma once
// The scripts of SPEC §5. Each starts with "#!lua" so that Redis 7 treats it as a
// writing script and refuses it on a server out of memory before it writes anything.
//
// Lock keys are hashes: token, fence, host, pid, user, command, started (unix ms), key (the
// KEY itself, so that `list` can name a key whose tag is its SHA-256).
// PREFIX{KEY}:fence expires after 7 days unused; one created afresh starts from the
// server's clock in milliseconds, so fencing tokens still only increase (SPEC §5).
// PREFIX{KEY}:last is a hash (fence, record): the outcome of the last run that was not
// stored, readable by the callers that waited for that run (SPEC §1, §5 finish).
// A release is published with PUBLISH and with SPUBLISH (SPEC §8), so that global and
// sharded subscribers both hear it; redis.pcall, since a server without SPUBLISH (Redis
// 6.x) answers an error that must not undo what the script did.

#include <string_view>

namespace lockrun::lua {

// KEYS: lock, fence, out, last
// ARGV: token, lease_ms, read_cache (1/0), waited_for_fence ("" for none),
//       host, pid, user, command, started_ms, key
// Returns {"hit", record} | {"shared", record} | {"acquired", fence} |
//         {"held", pttl_ms, fence, host, pid, user, command, started_ms}
inline constexpr std::string_view k_check_and_acquire = R"lua(#!lua
if ARGV[3] == '1' then
  local stored = redis.call('GET', KEYS[3])
  if stored then return {'hit', stored} end
  if ARGV[4] ~= '' and redis.call('HGET', KEYS[4], 'fence') == ARGV[4] then
    return {'shared', redis.call('HGET', KEYS[4], 'record')}
  end
end
local holder = redis.call('HGET', KEYS[1], 'token')
if not holder then
  if redis.call('EXISTS', KEYS[2]) == 0 then
    -- Seconds .. milliseconds, made as a string: Lua 5.1 prints big numbers as 1.7e+12.
    local t = redis.call('TIME')
    redis.call('SET', KEYS[2], t[1] .. string.format('%03d', math.floor(tonumber(t[2]) / 1000)))
  end
  local fence = redis.call('INCR', KEYS[2])
  redis.call('PEXPIRE', KEYS[2], 604800000)
  redis.call('DEL', KEYS[1])
  redis.call('HSET', KEYS[1], 'token', ARGV[1], 'fence', fence, 'host', ARGV[5],
             'pid', ARGV[6], 'user', ARGV[7], 'command', ARGV[8], 'started', ARGV[9],
             'key', ARGV[10])
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return {'acquired', fence}
end
if holder == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return {'acquired', tonumber(redis.call('HGET', KEYS[1], 'fence'))}
end
local h = redis.call('HMGET', KEYS[1], 'fence', 'host', 'pid', 'user', 'command', 'started')
return {'held', redis.call('PTTL', KEYS[1]), h[1], h[2], h[3], h[4], h[5], h[6]}
)lua";

// KEYS: lock   ARGV: token, lease_ms
// Returns 1 when renewed, 0 when the lock is gone or someone else's (never re-created).
// allow-oom: a PEXPIRE takes no memory, and a full server must not cost a running holder
// its lock.
inline constexpr std::string_view k_renew = R"lua(#!lua flags=allow-oom
if redis.call('HGET', KEYS[1], 'token') == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
)lua";

// KEYS: lock, out, last
// ARGV: token, fence, store (1/0), stored_record, cache_ttl_ms,
//       share (1/0), shared_record, shared_ttl_ms, channel
// Returns 1 when the lock was ours (stored, released, published), 0 when it was not.
inline constexpr std::string_view k_finish = R"lua(#!lua
if redis.call('HGET', KEYS[1], 'token') ~= ARGV[1] then return 0 end
if ARGV[3] == '1' then redis.call('SET', KEYS[2], ARGV[4], 'PX', ARGV[5]) end
if ARGV[6] == '1' then
  redis.call('DEL', KEYS[3])
  redis.call('HSET', KEYS[3], 'fence', ARGV[2], 'record', ARGV[7])
  redis.call('PEXPIRE', KEYS[3], ARGV[8])
end
redis.call('DEL', KEYS[1])
redis.call('PUBLISH', ARGV[9], ARGV[2])
redis.pcall('SPUBLISH', ARGV[9], ARGV[2])
return 1
)lua";

// KEYS: lock   ARGV: token, channel
// Releases our lock and wakes the waiters, storing nothing: after a signal or a failure,
// and when the server is out of memory (allow-oom: deleting frees memory).
// Returns 1 when the lock was ours, 0 when it was not.
inline constexpr std::string_view k_release = R"lua(#!lua flags=allow-oom
if redis.call('HGET', KEYS[1], 'token') ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
redis.call('PUBLISH', ARGV[2], 'released')
redis.pcall('SPUBLISH', ARGV[2], 'released')
return 1
)lua";

// KEYS: lock, out   (reads only, so it may run on a replica)
// Returns {lock_pttl, fence, host, pid, user, command, started_ms, record, out_pttl, key}
// with lock_pttl -2 when the lock is free, record false when nothing is stored, and key
// false when the lock does not name its KEY (free, or taken by lockrun 0.1).
// A lock key of another type (written by another client) reads as held by an unknown holder,
// so that `release --force`, which reads the status first, can still remove it.
inline constexpr std::string_view k_status = R"lua(#!lua flags=no-writes
local h = {false, false, false, false, false, false, false}
if redis.call('TYPE', KEYS[1]).ok == 'hash' then
  h = redis.call('HMGET', KEYS[1], 'fence', 'host', 'pid', 'user', 'command', 'started', 'key')
end
return {redis.call('PTTL', KEYS[1]), h[1], h[2], h[3], h[4], h[5], h[6],
        redis.call('GET', KEYS[2]), redis.call('PTTL', KEYS[2]), h[7]}
)lua";

// KEYS: lock   ARGV: channel
// Frees the lock whoever holds it and wakes the waiters. Returns 1 if it was held.
inline constexpr std::string_view k_force_release = R"lua(#!lua
if redis.call('DEL', KEYS[1]) == 1 then
  redis.call('PUBLISH', ARGV[1], 'forced')
  redis.pcall('SPUBLISH', ARGV[1], 'forced')
  return 1
end
return 0
)lua";

}  // namespace lockrun::lua
