-- Resets a partition for a rebuild from its log: deletes its models (and their histories), its
-- experiments and its decisions stream (the rebuild announces the same decisions again) and
-- moves its cursor (and the consumer group) back to the start, so the whole
-- log is applied again. Refused unless the log is whole (nothing trimmed or
-- deleted since its first entry) and the models are those the caller named.
-- KEYS[1] cursor hash, KEYS[2] stream, KEYS[3] models index, KEYS[4..3+M] model hashes,
-- KEYS[4+M..3+2M] their history streams, then the experiments index, the decisions stream
-- and the experiments' hashes
-- ARGV[1] group, ARGV[2] applier name, ARGV[3] M, ARGV[4] #experiments
local info = redis.pcall('XINFO', 'STREAM', KEYS[2])
if type(info) == 'table' and not info.err then
  local stream = {}
  for i = 1, #info, 2 do stream[info[i]] = info[i + 1] end
  if stream['entries-added'] ~= stream['length'] then
    return redis.error_reply('TRIMMED ' .. (stream['entries-added'] - stream['length']) ..
      ' of ' .. stream['entries-added'] .. ' entries are no longer in the log')
  end
end
if redis.call('ZCARD', KEYS[3]) ~= tonumber(ARGV[3])
    or redis.call('ZCARD', KEYS[4 + 2 * tonumber(ARGV[3])]) ~= tonumber(ARGV[4]) then
  return redis.error_reply('CHANGED the models or experiments changed while the rebuild started; run it again')
end
for i = 4, #KEYS do
  redis.call('DEL', KEYS[i])
end
redis.call('DEL', KEYS[3])
redis.call('HSET', KEYS[1], 'id', '0-0', 'read', 0, 'lost', 0, 'points', 0, 'by', ARGV[2])
redis.pcall('XGROUP', 'SETID', KEYS[2], ARGV[1], '0', 'ENTRIESREAD', 0)
return 'ok'
