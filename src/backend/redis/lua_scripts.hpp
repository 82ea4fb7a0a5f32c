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

// KEYS: lock, fence, out, last, holders, holder, writer
// ARGV: token, lease_ms, read_cache (1/0), waited_for_fence ("" for none),
//       host, pid, user, command, started_ms, key, wait_left_ms (-1: without limit),
//       publishes_live (1/0), may_have_mark (1/0: an earlier look of this caller may have
//       left its writer's mark)
// Returns {"hit", record} | {"shared", record} | {"acquired", fence} |
//         {"held", pttl_ms, fence, host, pid, user, command, started_ms, live} |
//         {"n", N}: a semaphore (-n N, SPEC §9) holds the key
// Readers (--shared) make it wait, the first of them to run out named, and its mark in
// PREFIX{KEY}:writer keeps new readers out meanwhile.
inline constexpr std::string_view k_check_and_acquire = R"lua(#!lua
if ARGV[3] == '1' then
  local stored = redis.call('GET', KEYS[3])
  if stored then return {'hit', stored} end
  if ARGV[4] ~= '' and redis.call('HGET', KEYS[4], 'fence') == ARGV[4] then
    return {'shared', redis.call('HGET', KEYS[4], 'record')}
  end
end
-- Neither a semaphore nor a lock (the uncontended run) costs one look: every call here is
-- on every run's way to its command.
local free = redis.call('EXISTS', KEYS[5], KEYS[1]) == 0
if not free and redis.call('EXISTS', KEYS[5]) == 1 then
  -- Only live holders count: one whose lease ran out (crashed) is left for the next
  -- semaphore acquisition to clean up, or goes with the keys below.
  local t = redis.call('TIME')
  local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  local first = redis.call('ZRANGEBYSCORE', KEYS[5], '(' .. now, '+inf', 'WITHSCORES', 'LIMIT',
                           0, 1)
  if #first > 0 then
    local in_force = redis.call('HGET', KEYS[6], 'n')
    if in_force ~= 'shared' then return {'n', in_force} end
    -- The mark keeps new readers out until this caller looks again (when the first reader's
    -- lease would run out, or a release wakes it) and a second more, but not past its --wait
    -- (ARGV[11], ms; -1: none); a caller that does not wait leaves none. Never shortened.
    local mark = tonumber(first[2]) - now + 1005
    local patience = tonumber(ARGV[11])
    if patience >= 0 then mark = math.min(mark, patience + 1000) end
    if patience ~= 0 and redis.call('PTTL', KEYS[7]) < mark then
      redis.call('SET', KEYS[7], ARGV[1], 'PX', mark)
    end
    local p = first[1] .. '|'
    local h = redis.call('HMGET', KEYS[6], p .. 'fence', p .. 'host', p .. 'pid', p .. 'user',
                         p .. 'command', p .. 'started')
    return {'held', tonumber(first[2]) - now, h[1], h[2], h[3], h[4], h[5], h[6]}
  end
  redis.call('DEL', KEYS[5], KEYS[6])
end
local holder = false
if not free then holder = redis.call('HGET', KEYS[1], 'token') end
if ARGV[13] == '1' and (not holder or holder == ARGV[1]) then
  -- Its mark (left by an earlier look of this caller) is of no more use once this writer
  -- holds the lock.
  if redis.call('GET', KEYS[7]) == ARGV[1] then redis.call('DEL', KEYS[7]) end
end
if not holder then
  local fence = redis.call('INCR', KEYS[2])
  if fence == 1 then
    -- Made afresh: seconds .. milliseconds, made as a string (Lua 5.1 prints big numbers as
    -- 1.7e+12), and one more.
    local t = redis.call('TIME')
    redis.call('SET', KEYS[2], t[1] .. string.format('%03d', math.floor(tonumber(t[2]) / 1000)))
    fence = redis.call('INCR', KEYS[2])
  end
  redis.call('PEXPIRE', KEYS[2], 604800000)
  -- A key without a token (another client's) gives way.
  if not free then redis.call('DEL', KEYS[1]) end
  redis.call('HSET', KEYS[1], 'token', ARGV[1], 'fence', fence, 'host', ARGV[5],
             'pid', ARGV[6], 'user', ARGV[7], 'command', ARGV[8], 'started', ARGV[9],
             'key', ARGV[10])
  if ARGV[12] == '1' then redis.call('HSET', KEYS[1], 'live', '1') end
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return {'acquired', fence}
end
if holder == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return {'acquired', tonumber(redis.call('HGET', KEYS[1], 'fence'))}
end
local h = redis.call('HMGET', KEYS[1], 'fence', 'host', 'pid', 'user', 'command', 'started',
                     'live')
return {'held', redis.call('PTTL', KEYS[1]), h[1], h[2], h[3], h[4], h[5], h[6], h[7]}
)lua";

// KEYS: lock   ARGV: token, lease_ms
// Returns 1 when renewed, 0 when the lock is gone or someone else's (never re-created).
// allow-oom: a PEXPIRE takes no memory, and a full server must not cost a running holder
// its lock. One key: a slot being migrated answers a request of several TRYAGAIN.
inline constexpr std::string_view k_renew = R"lua(#!lua flags=allow-oom
if redis.call('HGET', KEYS[1], 'token') == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
)lua";

// KEYS: lock, out, last, live
// ARGV: token, fence, store (1/0), stored_record, cache_ttl_ms,
//       share (1/0), shared_record, shared_ttl_ms, channel,
//       live_end_id ("" for none), exit status, has outcome (1/0; c: no, output cut),
//       total bytes
// Returns 1 when the lock was ours (stored, released, published), 0 when it was not.
// The run's end goes last into its live stream (SPEC §1), which is deleted shortly after;
// with redis.pcall: a stream that another client damaged must not undo the release.
inline constexpr std::string_view k_finish = R"lua(#!lua
if redis.call('HGET', KEYS[1], 'token') ~= ARGV[1] then return 0 end
if ARGV[3] == '1' then redis.call('SET', KEYS[2], ARGV[4], 'PX', ARGV[5]) end
if ARGV[6] == '1' then
  redis.call('DEL', KEYS[3])
  redis.call('HSET', KEYS[3], 'fence', ARGV[2], 'record', ARGV[7])
  redis.call('PEXPIRE', KEYS[3], ARGV[8])
end
if ARGV[10] ~= '' then
  redis.pcall('XADD', KEYS[4], ARGV[10], 'f', ARGV[2], 'e', ARGV[11], 'h', ARGV[12],
              't', ARGV[13])
  redis.pcall('PEXPIRE', KEYS[4], ARGV[8])
end
redis.call('DEL', KEYS[1])
redis.call('PUBLISH', ARGV[9], ARGV[2])
redis.pcall('SPUBLISH', ARGV[9], ARGV[2])
return 1
)lua";

// KEYS: live, lock
// ARGV: fence, id ("<fence>-<end offset>" of the piece, or of a marker), minid
//       ("<fence>-<offset>": the window's start, "" for none), stream (o/e; "" for a look
//       without a piece), bytes, past_head (1/0), ttl_ms, drop_laggards (1/0)
// Adds a piece of the running command's output to its live stream (SPEC §1); the IDs of a
// run are "<fence>-<offset>", so that the next run's go after them in the same stream, and
// a holder that lost its lock can write nothing into it (and is told 0). Each follower
// reads through a consumer group of its own, whose last-delivered-id says how far it has
// read: the stream is trimmed to the window, but never past what a follower has still to
// read ({2, the slowest one's last-delivered-id} is returned then, and the holder waits for
// it), unless drop_laggards, which
// destroys the groups of the followers that lag. Past the head, only while someone follows:
// otherwise the stream becomes one marker ('p'), so that a caller that comes later finds
// the start gone, never a head and then nothing, and 0 is returned (the holder stops
// publishing). Returns 1 when published.
inline constexpr std::string_view k_publish_live = R"lua(#!lua
if redis.call('HGET', KEYS[2], 'fence') ~= ARGV[1] then return 0 end
local groups = {}
if redis.call('EXISTS', KEYS[1]) == 1 then groups = redis.call('XINFO', 'GROUPS', KEYS[1]) end
if ARGV[6] == '1' and #groups == 0 then
  redis.call('DEL', KEYS[1])
  redis.call('XADD', KEYS[1], ARGV[2], 'f', ARGV[1], 'p', '1')
  redis.call('PEXPIRE', KEYS[1], ARGV[7])
  return 0
end
if ARGV[4] ~= '' then
  redis.call('XADD', KEYS[1], ARGV[2], 'f', ARGV[1], 's', ARGV[4], 'd', ARGV[5])
end
-- "<ms>-<seq>" as two numbers, to compare IDs (offsets and fences stay below 2^53).
local function id_of(text)
  local ms, seq = string.match(text, '^(%d+)-(%d+)$')
  return {tonumber(ms) or 0, tonumber(seq) or 0}
end
local function before(a, b) return a[1] < b[1] or (a[1] == b[1] and a[2] < b[2]) end
local lags, keep_text = false, ARGV[3]
if ARGV[3] ~= '' then
  local window, keep = id_of(ARGV[3]), id_of(ARGV[3])
  for _, group in ipairs(groups) do
    local name, read = nil, '0-0'
    for i = 1, #group, 2 do
      if group[i] == 'name' then name = group[i + 1] end
      if group[i] == 'last-delivered-id' then read = group[i + 1] end
    end
    local at = id_of(read)
    if before(at, window) then
      if ARGV[8] == '1' then
        redis.call('XGROUP', 'DESTROY', KEYS[1], name)
      else
        lags = true
        if before(at, keep) then keep, keep_text = at, read end
      end
    end
  end
  redis.call('XTRIM', KEYS[1], 'MINID', keep_text)
end
redis.call('PEXPIRE', KEYS[1], ARGV[7])
if lags then return {2, keep_text} end
return 1
)lua";

// KEYS: live   ARGV: group, first_id ("<fence>-0"), ttl_ms
// A follower's consumer group (k_publish_live), from the start of its run's entries; the
// stream is made if the holder has published nothing yet, and then expires like one it
// publishes.
inline constexpr std::string_view k_follow_live = R"lua(#!lua
redis.call('XGROUP', 'CREATE', KEYS[1], ARGV[1], ARGV[2], 'MKSTREAM')
if redis.call('PTTL', KEYS[1]) < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[3]) end
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

// KEYS: lock, out, holders, holder   (reads only, so it may run on a replica)
// Returns {lock_pttl, fence, host, pid, user, command, started_ms, record, out_pttl, key,
//          n, {pttl, fence, host, pid, user, command, started_ms}...}
// with lock_pttl -2 when the lock is free, record false when nothing is stored, and key
// false when the lock does not name its KEY (free, or taken by lockrun 0.1); n (false
// without a semaphore) and the semaphore's holders whose leases have not run out, the first
// to run out first.
// A lock key of another type (written by another client) reads as held by an unknown holder,
// so that `release --force`, which reads the status first, can still remove it.
inline constexpr std::string_view k_status = R"lua(#!lua flags=no-writes
local h = {false, false, false, false, false, false, false}
if redis.call('TYPE', KEYS[1]).ok == 'hash' then
  h = redis.call('HMGET', KEYS[1], 'fence', 'host', 'pid', 'user', 'command', 'started', 'key')
end
local reply = {redis.call('PTTL', KEYS[1]), h[1], h[2], h[3], h[4], h[5], h[6],
               redis.call('GET', KEYS[2]), redis.call('PTTL', KEYS[2]), h[7], false}
if redis.call('TYPE', KEYS[3]).ok ~= 'zset' or redis.call('TYPE', KEYS[4]).ok ~= 'hash' then
  return reply
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
reply[11] = redis.call('HGET', KEYS[4], 'n')
if not reply[10] then reply[10] = redis.call('HGET', KEYS[4], 'key') end
local holders = redis.call('ZRANGEBYSCORE', KEYS[3], '(' .. now, '+inf', 'WITHSCORES')
for i = 1, #holders, 2 do
  local token = holders[i]
  local f = redis.call('HMGET', KEYS[4], token .. '|fence', token .. '|host', token .. '|pid',
                       token .. '|user', token .. '|command', token .. '|started')
  table.insert(reply, {tonumber(holders[i + 1]) - now, f[1], f[2], f[3], f[4], f[5], f[6]})
end
return reply
)lua";

// KEYS: lock, holders, holder, writer   ARGV: channel
// Frees the lock, or every slot of a semaphore or every reader, whoever holds them, and wakes
// the waiters. Returns 1 if anything was held.
inline constexpr std::string_view k_force_release = R"lua(#!lua
redis.call('DEL', KEYS[4])
if redis.call('DEL', KEYS[1], KEYS[2], KEYS[3]) > 0 then
  redis.call('PUBLISH', ARGV[1], 'forced')
  redis.pcall('SPUBLISH', ARGV[1], 'forced')
  return 1
end
return 0
)lua";

// ---- Semaphores (-n N, SPEC §9). PREFIX{KEY}:holders is a sorted set of the holders'
// tokens scored by when their leases run out (the server's clock, in ms); PREFIX{KEY}:holder
// a hash of 'n' (the N in force), 'key' (KEY, for `list`) and each holder's record as
// fields TOKEN|fence, TOKEN|host, TOKEN|pid, TOKEN|user, TOKEN|command, TOKEN|started. Both
// expire when the last lease would, and a slot whose lease ran out is freed by the next
// acquisition. Fencing tokens come from PREFIX{KEY}:fence, as for the lock.

// KEYS: holders, holder, fence, lock, writer
// ARGV: token, lease_ms, n, host, pid, user, command, started_ms, key, capacity
// n is N, or "shared" for readers (--shared), whose capacity has no practical limit, who
// wait for an exclusive holder rather than refuse it, and who do not enter while a writer's
// mark (PREFIX{KEY}:writer) says one waits.
// Returns {"acquired", fence} | {"held", pttl_ms, fence, host, pid, user, command,
//          started_ms} of the holder whose lease runs out first | {"n", N in force}
inline constexpr std::string_view k_acquire_slot = R"lua(#!lua
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local function forget(token)
  redis.call('ZREM', KEYS[1], token)
  for _, f in ipairs({'fence', 'host', 'pid', 'user', 'command', 'started'}) do
    redis.call('HDEL', KEYS[2], token .. '|' .. f)
  end
end
for _, token in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now)) do forget(token) end
local count = redis.call('ZCARD', KEYS[1])
if count == 0 then redis.call('DEL', KEYS[2]) end
if redis.call('EXISTS', KEYS[4]) == 1 then
  if ARGV[3] ~= 'shared' then return {'n', '1'} end
  local h = redis.call('HMGET', KEYS[4], 'fence', 'host', 'pid', 'user', 'command', 'started')
  return {'held', redis.call('PTTL', KEYS[4]), h[1], h[2], h[3], h[4], h[5], h[6]}
end
local in_force = redis.call('HGET', KEYS[2], 'n')
if in_force and in_force ~= ARGV[3] then return {'n', in_force} end
local expiry = now + tonumber(ARGV[2])
local function extend()
  local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
  redis.call('PEXPIREAT', KEYS[1], last[2])
  redis.call('PEXPIREAT', KEYS[2], last[2])
end
if redis.call('ZSCORE', KEYS[1], ARGV[1]) then
  redis.call('ZADD', KEYS[1], expiry, ARGV[1])
  extend()
  return {'acquired', tonumber(redis.call('HGET', KEYS[2], ARGV[1] .. '|fence'))}
end
if ARGV[3] == 'shared' and redis.call('EXISTS', KEYS[5]) == 1 then
  return {'held', redis.call('PTTL', KEYS[5]), false, false, false, false, false, false}
end
if count < tonumber(ARGV[10]) then
  if redis.call('EXISTS', KEYS[3]) == 0 then
    redis.call('SET', KEYS[3], t[1] .. string.format('%03d', math.floor(tonumber(t[2]) / 1000)))
  end
  local fence = redis.call('INCR', KEYS[3])
  redis.call('PEXPIRE', KEYS[3], 604800000)
  redis.call('ZADD', KEYS[1], expiry, ARGV[1])
  local p = ARGV[1] .. '|'
  redis.call('HSET', KEYS[2], 'n', ARGV[3], 'key', ARGV[9], p .. 'fence', fence,
             p .. 'host', ARGV[4], p .. 'pid', ARGV[5], p .. 'user', ARGV[6],
             p .. 'command', ARGV[7], p .. 'started', ARGV[8])
  extend()
  return {'acquired', fence}
end
local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
local p = first[1] .. '|'
local h = redis.call('HMGET', KEYS[2], p .. 'fence', p .. 'host', p .. 'pid', p .. 'user',
                     p .. 'command', p .. 'started')
return {'held', tonumber(first[2]) - now, h[1], h[2], h[3], h[4], h[5], h[6]}
)lua";

// KEYS: holders, holder   ARGV: token, lease_ms
// Returns 1 when renewed, 0 when the slot is gone or its lease has run out.
inline constexpr std::string_view k_renew_slot = R"lua(#!lua flags=allow-oom
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not score or tonumber(score) <= now then return 0 end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
redis.call('PEXPIREAT', KEYS[1], last[2])
redis.call('PEXPIREAT', KEYS[2], last[2])
return 1
)lua";

// KEYS: holders, holder   ARGV: token, channel
// Frees our slot and wakes the waiters. Returns 1 when the slot was ours (its lease not run
// out), 0 when it was not.
inline constexpr std::string_view k_release_slot = R"lua(#!lua flags=allow-oom
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not score then return 0 end
redis.call('ZREM', KEYS[1], ARGV[1])
for _, f in ipairs({'fence', 'host', 'pid', 'user', 'command', 'started'}) do
  redis.call('HDEL', KEYS[2], ARGV[1] .. '|' .. f)
end
local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
if #last == 0 then
  redis.call('DEL', KEYS[2])
else
  -- The keys live as long as the last lease that remains, no longer.
  redis.call('PEXPIREAT', KEYS[1], last[2])
  redis.call('PEXPIREAT', KEYS[2], last[2])
end
redis.call('PUBLISH', ARGV[2], 'released')
redis.pcall('SPUBLISH', ARGV[2], 'released')
if tonumber(score) <= now then return 0 end
return 1
)lua";

}  // namespace lockrun::lua
