-- Announces one change of an experiment's decision: records it in the experiment's hash and
-- appends it to the decisions stream, in one step on the experiment's slot. Fenced twice: by
-- the partition's cursor (an owner that lost the partition changes nothing) and by the record's
-- `seq` (two evaluations of the same change, by a second instance or after a restart, announce
-- it once: the second finds `seq` moved). Built by platform's AnnounceCall; read by AnnounceReply.
-- KEYS[1] cursor hash, KEYS[2] experiment hash, KEYS[3] decisions stream
-- ARGV[1] the cursor the evaluation was made at, ARGV[2] the record's seq it was compared with,
-- ARGV[3] the new winner ('' none), ARGV[4] log time (ms), ARGV[5] decisions maxlen,
-- ARGV[6] p_best, ARGV[7] expected loss ('' none), ARGV[8] channel ('' none), ARGV[9] notice,
-- ARGV[10..] the event's fields, name value pairs ('seq' is added here)
-- Returns {'announced', seq}, {'fenced', cursor}, {'stale', seq}, {'gone'} or {'stopped'}.
local cursor = redis.call('HGET', KEYS[1], 'id')
if cursor ~= ARGV[1] then
  return {'fenced', cursor or ''}
end
if redis.call('EXISTS', KEYS[2]) == 0 then
  return {'gone'}
end
if redis.call('HGET', KEYS[2], 'stopped') then
  return {'stopped'}
end
local seq = redis.call('HGET', KEYS[2], 'seq') or '0'
if seq ~= ARGV[2] then
  return {'stale', seq}
end
seq = redis.call('HINCRBY', KEYS[2], 'seq', 1)
redis.call('HSET', KEYS[2], 'decision', ARGV[3], 'decided_at', ARGV[4],
  'p_best', ARGV[6], 'expected_loss', ARGV[7])
local fields = {'seq', seq}
for k = 10, #ARGV do
  fields[#fields + 1] = ARGV[k]
end
-- The id is the log time the decision was reached at, so a rebuild gives the same ids.
local added = redis.pcall('XADD', KEYS[3], 'MAXLEN', '~', ARGV[5], ARGV[4] .. '-*', unpack(fields))
if type(added) == 'table' and added.err then
  redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[5], '*', unpack(fields))
end
if ARGV[8] ~= '' then
  redis.pcall('PUBLISH', ARGV[8], ARGV[9])
end
return {'announced', seq}
