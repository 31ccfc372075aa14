-- Applies one batch of a partition's log, all or nothing, fenced by the
-- cursor: if the stored cursor is not where the batch starts, another
-- applier got there first and nothing changes. Otherwise it writes each
-- touched model's state after the batch (computed by the partition's owner,
-- which knows its models' counts: one HSET a model, not an addition per
-- field), updates the models index, writes the dead letters, moves the
-- cursor to the batch's end and the consumer group with it (so XINFO GROUPS
-- shows the true lag). Built by platform's ApplyCall; read by ApplyReply.
-- KEYS[1] cursor hash, KEYS[2] stream, KEYS[3] dead stream, KEYS[4] models index,
-- KEYS[5..] one model hash per write, in write order
-- ARGV[1] cursor the batch starts after, ARGV[2] its last entry id, ARGV[3] its entry count,
-- ARGV[4] applier, ARGV[5] group, ARGV[6] dead maxlen, ARGV[7] #writes,
-- ARGV[8] #models created, ARGV[9] #models removed, ARGV[10] #dead letters,
-- then per write: 'c' n w (counts), 'f' n w prior grid_points (whole), or 'x' (deleted),
-- then the names created, the names removed, then per dead letter: entry id, reason, raw,
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
local i = 11
for k = 5, 4 + writes do
  local kind = ARGV[i]
  if kind == 'c' then
    redis.call('HSET', KEYS[k], 'n', ARGV[i + 1], 'w', ARGV[i + 2])
    i = i + 3
  elseif kind == 'f' then
    redis.call('HSET', KEYS[k], 'n', ARGV[i + 1], 'w', ARGV[i + 2],
      'prior', ARGV[i + 3], 'grid_points', ARGV[i + 4])
    i = i + 5
  else
    redis.call('DEL', KEYS[k])
    i = i + 1
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

redis.call('HSET', KEYS[1], 'id', ARGV[2], 'by', ARGV[4])
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
