-- Applies one batch of a partition's log, all or nothing, fenced by the
-- cursor: if the stored cursor is not where the batch starts, another
-- applier got there first and nothing changes. Otherwise it writes each
-- touched model's state after the batch (computed by the partition's owner,
-- which knows its models' counts: one HSET a model, not an addition per
-- field), updates the models index, writes the dead letters, moves the
-- cursor to the batch's end and the consumer group with it (so XINFO GROUPS
-- shows the true lag). The history points the batch closes go to each
-- model's history stream in the same step, so a fenced batch writes none
-- and a replayed one none twice. Built by platform's ApplyCall; read by ApplyReply.
-- KEYS[1] cursor hash, KEYS[2] stream, KEYS[3] dead stream, KEYS[4] models index,
-- KEYS[5..4+W] one model hash per write, in write order, then W history streams, in the same order,
-- then the experiments index, the decisions stream and E experiment hashes (one per experiment op)
-- ARGV[1] cursor the batch starts after, ARGV[2] its last entry id, ARGV[3] its entry count,
-- ARGV[4] applier, ARGV[5] group, ARGV[6] dead maxlen, ARGV[7] #writes W,
-- ARGV[8] #models created, ARGV[9] #models removed, ARGV[10] #dead letters,
-- ARGV[11] history retention (ms), ARGV[12] #experiment ops E, ARGV[13] decisions maxlen,
-- then per write: 'c' n w (counts) or 'f' n w prior grid_points (whole), each followed by
--   t (the hash's last-changed interval end; 0: keep), start ('0' go on, '1' fresh: drop the
--   history and t first, '2' base: the history is known from the first point on),
--   k, and k points t w n (oldest first); or 'x' (deleted, with its history),
-- then the names created, the names removed, then per dead letter: entry id, reason, raw,
-- then per experiment op: 'e' name spec at (defined), 's' name variant at (stopped: announced
--   on the decisions stream), or 'x' name (deleted),
-- then, optionally, a channel and a notice published once the batch is applied (for live views)
-- Returns {'applied'}, {'replayed'} if this applier already applied exactly this batch (a resent
-- request), or {'fenced', cursor} if someone else moved the cursor.
local at = redis.call('HMGET', KEYS[1], 'id', 'by')
if not at[1] then
  return redis.error_reply('NOCURSOR the partition was not initialised')
end
if at[1] ~= ARGV[1] then
  if at[1] == ARGV[2] and at[2] == ARGV[4] then
    return {'replayed'}
  end
  return {'fenced', at[1]}
end

local writes, created, removed, dead = tonumber(ARGV[7]), tonumber(ARGV[8]),
  tonumber(ARGV[9]), tonumber(ARGV[10])
local retention = tonumber(ARGV[11])

-- Appends k points from ARGV[at] to the history stream `key`, then drops
-- points older than the retention before the newest, keeping the last of
-- them, so the counts at any time since stay known. O(1) calls a point.
-- Points the batch adds to (or drops from) the partition's histories, kept
-- in the cursor hash's 'points' for `bayes status`.
local points_delta = 0

local function history(hash, key, at, k)
  for p = 0, k - 1 do
    local base = at + 3 * p
    -- pcall: a point at or before the stream's newest cannot be (points
    -- only move forward); were one sent, the counts still land.
    local added = redis.pcall('XADD', key, ARGV[base] .. '-0', 'w', ARGV[base + 1], 'n', ARGV[base + 2])
    if type(added) ~= 'table' then
      points_delta = points_delta + 1
    end
  end
  if k > 0 and retention > 0 then
    local cutoff = tonumber(ARGV[at + 3 * (k - 1)]) - retention
    local oldest = redis.call('XRANGE', key, '-', '+', 'COUNT', 2)
    if #oldest == 2 and tonumber(string.match(oldest[2][1], '^%d+')) <= cutoff then
      local keep = redis.call('XREVRANGE', key, cutoff, '-', 'COUNT', 1)
      points_delta = points_delta - redis.call('XTRIM', key, 'MINID', keep[1][1])
      redis.call('HSET', hash, 'from', string.match(keep[1][1], '^%d+'))
    end
  end
end

local i = 14
for k = 5, 4 + writes do
  local kind = ARGV[i]
  if kind == 'x' then
    points_delta = points_delta - redis.call('XLEN', KEYS[k + writes])
    redis.call('DEL', KEYS[k], KEYS[k + writes])
    i = i + 1
  else
    if kind == 'c' then
      redis.call('HSET', KEYS[k], 'n', ARGV[i + 1], 'w', ARGV[i + 2])
      i = i + 3
    else
      redis.call('HSET', KEYS[k], 'n', ARGV[i + 1], 'w', ARGV[i + 2],
        'prior', ARGV[i + 3], 'grid_points', ARGV[i + 4])
      i = i + 5
    end
    if ARGV[i + 1] == '1' then
      points_delta = points_delta - redis.call('XLEN', KEYS[k + writes])
      redis.call('DEL', KEYS[k + writes])
      redis.call('HDEL', KEYS[k], 't', 'from')
    elseif ARGV[i + 1] == '2' then
      redis.call('HSET', KEYS[k], 'from', ARGV[i + 3])
    end
    if ARGV[i] ~= '0' then
      redis.call('HSET', KEYS[k], 't', ARGV[i])
    end
    local points = tonumber(ARGV[i + 2])
    history(KEYS[k], KEYS[k + writes], i + 3, points)
    i = i + 3 + 3 * points
  end
end
-- The index in calls of up to 1,000 names (Lua's unpack has a bound),
-- however many models came or went.
local CHUNK = 1000
for from = 0, created - 1, CHUNK do
  local members = {}
  for k = from, math.min(created, from + CHUNK) - 1 do
    members[#members + 1] = 0
    members[#members + 1] = ARGV[i + k]
  end
  redis.call('ZADD', KEYS[4], unpack(members))
end
i = i + created
for from = 0, removed - 1, CHUNK do
  redis.call('ZREM', KEYS[4], unpack(ARGV, i + from, i + math.min(removed, from + CHUNK) - 1))
end
i = i + removed

for k = 0, dead - 1 do
  local at_dead = i + 3 * k
  redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[6], '*', 'source', 'log',
    'id', ARGV[at_dead], 'reason', ARGV[at_dead + 1], 'raw', ARGV[at_dead + 2])
end
i = i + 3 * dead

local index, decisions = KEYS[5 + 2 * writes], KEYS[6 + 2 * writes]
for e = 1, tonumber(ARGV[12]) do
  local hash, kind, name = KEYS[6 + 2 * writes + e], ARGV[i], ARGV[i + 1]
  if kind == 'e' then
    redis.call('HSET', hash, 'spec', ARGV[i + 2], 'defined_at', ARGV[i + 3])
    redis.call('HDEL', hash, 'stopped', 'stopped_at')
    redis.call('ZADD', index, 0, name)
    i = i + 4
  elseif kind == 's' then
    if redis.call('EXISTS', hash) == 1 and not redis.call('HGET', hash, 'stopped') then
      local from = redis.call('HGET', hash, 'decision') or ''
      local seq = redis.call('HINCRBY', hash, 'seq', 1)
      redis.call('HSET', hash, 'stopped', ARGV[i + 2], 'stopped_at', ARGV[i + 3])
      local fields = {'experiment', name, 'seq', seq, 'status', 'stopped', 'from', from,
        'to', ARGV[i + 2], 'p_best', '', 'expected_loss', '', 'at', ARGV[i + 3], 'counts', '{}'}
      -- The id is the log time of the stop, so a rebuild gives the same ids.
      local added = redis.pcall('XADD', decisions, 'MAXLEN', '~', ARGV[13], ARGV[i + 3] .. '-*', unpack(fields))
      if type(added) == 'table' and added.err then
        redis.call('XADD', decisions, 'MAXLEN', '~', ARGV[13], '*', unpack(fields))
      end
    end
    i = i + 4
  else
    redis.call('DEL', hash)
    redis.call('ZREM', index, name)
    i = i + 2
  end
end

redis.call('HSET', KEYS[1], 'id', ARGV[2], 'by', ARGV[4])
if points_delta ~= 0 then
  redis.call('HINCRBY', KEYS[1], 'points', points_delta)
end
local read = redis.call('HINCRBY', KEYS[1], 'read', ARGV[3])
local moved = redis.pcall('XGROUP', 'SETID', KEYS[2], ARGV[5], ARGV[2], 'ENTRIESREAD', read)
if type(moved) == 'table' and moved.err then
  -- The group was destroyed (by hand): recreate it where the cursor is.
  redis.pcall('XGROUP', 'CREATE', KEYS[2], ARGV[5], ARGV[2], 'MKSTREAM', 'ENTRIESREAD', read)
end
-- In the script, so a notice goes out exactly when its batch is applied.
if ARGV[i] and ARGV[i] ~= '' then
  redis.pcall('PUBLISH', ARGV[i], ARGV[i + 1])
end
return {'applied'}
