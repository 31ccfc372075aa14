-- Applies one batch of a partition's log, all or nothing, fenced by the
-- cursor: if the stored cursor is not where the batch starts, another
-- applier got there first and nothing changes. Otherwise it adds the
-- counts, applies definitions and deletions in log order, writes the dead
-- letters, moves the cursor to the batch's end and the consumer group with
-- it (so XINFO GROUPS shows the true lag).
-- KEYS[1] cursor hash, KEYS[2] stream, KEYS[3] dead stream, KEYS[4] models index,
-- KEYS[5..] one model hash per op, in op order
-- ARGV[1] cursor the batch starts after, ARGV[2] its last entry id, ARGV[3] its entry count,
-- ARGV[4] applier, ARGV[5] group, ARGV[6] dead maxlen, ARGV[7] default prior,
-- ARGV[8] default grid points, ARGV[9] #ops, ARGV[10] #dead letters,
-- then per op: kind ('a' add, 'd' define, 'x' delete), model name, a, b
--   (add: a = wins, b = trials; define: a = prior, b = grid points)
-- then per dead letter: entry id, reason, raw
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

local ops, dead = tonumber(ARGV[9]), tonumber(ARGV[10])
local OPS = 11
local DEAD = OPS + 4 * ops

-- Checked before any write: an error after a write would half-apply the batch.
for i = 0, ops - 1 do
  if ARGV[OPS + 4 * i] == 'a' then
    local n = tonumber(redis.call('HGET', KEYS[5 + i], 'n') or '0')
    if n + tonumber(ARGV[OPS + 4 * i + 3]) > 9007199254740991 then
      return redis.error_reply('COUNTS_OVERFLOW n would pass 2^53 - 1')
    end
  end
end

for i = 0, ops - 1 do
  local at_op = OPS + 4 * i
  local kind, name, a, b = ARGV[at_op], ARGV[at_op + 1], ARGV[at_op + 2], ARGV[at_op + 3]
  local key = KEYS[5 + i]
  if kind == 'a' then
    -- Two calls per model in the common case (the apply's cost with many
    -- models is its calls). n was 0 before exactly when it now equals b: a
    -- new model (or one only defined so far) takes the default definition
    -- unless it has one, and joins the index.
    if redis.call('HINCRBY', key, 'n', b) == tonumber(b) then
      redis.call('HSETNX', key, 'prior', ARGV[7])
      redis.call('HSETNX', key, 'grid_points', ARGV[8])
      redis.call('ZADD', KEYS[4], 0, name)
    end
    if a ~= '0' then
      redis.call('HINCRBY', key, 'w', a)
    end
  elseif kind == 'd' then
    redis.call('HSET', key, 'prior', a, 'grid_points', b)
    redis.call('ZADD', KEYS[4], 0, name)
  else
    redis.call('DEL', key)
    redis.call('ZREM', KEYS[4], name)
  end
end

for i = 0, dead - 1 do
  local at_dead = DEAD + 3 * i
  redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[6], '*', 'source', 'log',
    'id', ARGV[at_dead], 'reason', ARGV[at_dead + 1], 'raw', ARGV[at_dead + 2])
end

redis.call('HSET', KEYS[1], 'id', ARGV[2], 'by', ARGV[4])
local read = redis.call('HINCRBY', KEYS[1], 'read', ARGV[3])
local moved = redis.pcall('XGROUP', 'SETID', KEYS[2], ARGV[5], ARGV[2], 'ENTRIESREAD', read)
if type(moved) == 'table' and moved.err then
  -- The group was destroyed (by hand): recreate it where the cursor is.
  redis.pcall('XGROUP', 'CREATE', KEYS[2], ARGV[5], ARGV[2], 'MKSTREAM', 'ENTRIESREAD', read)
end
-- In the script, so a notice goes out exactly when its batch is applied.
local notice = DEAD + 3 * dead
if ARGV[notice] and ARGV[notice] ~= '' then
  redis.pcall('PUBLISH', ARGV[notice], ARGV[notice + 1])
end
return {'applied'}
