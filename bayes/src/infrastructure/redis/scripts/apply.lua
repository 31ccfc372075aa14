-- Applies a batch exactly once in effect: acknowledges every entry and adds
-- to the counts only those whose XACK succeeded (an entry another consumer
-- already acknowledged is skipped). Dead entries are acknowledged and copied
-- to the dead-letter stream the same way. One script, so one atomic step.
-- KEYS[1] events stream, KEYS[2] model hash, KEYS[3] dead-letter stream
-- ARGV[1] group, ARGV[2] #wins, ARGV[3] #losses, ARGV[4] #dead, ARGV[5] dead maxlen
-- ARGV[6..] win ids, then loss ids, then (id, reason, raw) per dead entry
local group = ARGV[1]
local wins, losses, dead = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local FIRST = 6
local CHUNK = 4000 -- unpack() is limited to about 8000 values

-- Checked before any write: an error after a write would leave a half-done batch.
local n = tonumber(redis.call('HGET', KEYS[2], 'n') or '0')
if n + wins + losses > 9007199254740991 then
  return redis.error_reply('COUNTS_OVERFLOW n would pass 2^53 - 1')
end

-- XACK counts the ids that were pending; those, and only those, are new.
local function ack(first, count)
  local acked = 0
  local last = first + count - 1
  for i = first, last, CHUNK do
    acked = acked + redis.call('XACK', KEYS[1], group, unpack(ARGV, i, math.min(i + CHUNK - 1, last)))
  end
  return acked
end

local w = ack(FIRST, wins)
local l = ack(FIRST + wins, losses)
local lettered = 0
local base = FIRST + wins + losses
for k = 0, dead - 1 do
  local at = base + 3 * k
  if redis.call('XACK', KEYS[1], group, ARGV[at]) == 1 then
    redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[5], '*',
      'source', 'log', 'id', ARGV[at], 'reason', ARGV[at + 1], 'raw', ARGV[at + 2])
    lettered = lettered + 1
  end
end
local total_w = redis.call('HINCRBY', KEYS[2], 'w', w)
local total_n = redis.call('HINCRBY', KEYS[2], 'n', w + l)
return {total_w, total_n, w + l, lettered}
