-- The api's group-commit write to one partition's log: every entry of the
-- write, all or nothing, and each request's Idempotency-Key checked and
-- recorded with the entries it guards.
-- KEYS[1] the partition's stream, KEYS[2] the write's token,
-- KEYS[3..] the idempotency keys of the write's keyed entries
-- ARGV[1] maxlen (0: no trimming), ARGV[2] token ttl ms,
-- ARGV[3] idempotency window ms, then per entry:
--   key index (0: none, else its index in KEYS), fingerprint, n, n field/value pairs
-- Returns per entry the new entry's id, or for a key already recorded
-- '=' .. its record ('<fingerprint> <id> <index>'), nothing appended.
-- A write whose token is recorded already is a replay (redis-rs resends a
-- request after a reconnect): it answers the recorded reply and appends
-- nothing, but renews the token, a write, so a WAIT after it covers
-- everything before it on this node.
local done = redis.call('GET', KEYS[2])
if done then
  redis.call('PEXPIRE', KEYS[2], ARGV[2])
  return cjson.decode(done)
end
local results = {}
local i = 4
while i <= #ARGV do
  local key_index, fingerprint, n = tonumber(ARGV[i]), ARGV[i + 1], tonumber(ARGV[i + 2])
  local first, last = i + 3, i + 2 + 2 * n
  i = last + 1
  local recorded = key_index > 0 and redis.call('GET', KEYS[key_index])
  if recorded then
    results[#results + 1] = '=' .. recorded
  else
    local id
    if ARGV[1] == '0' then
      id = redis.call('XADD', KEYS[1], '*', unpack(ARGV, first, last))
    else
      id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', unpack(ARGV, first, last))
    end
    results[#results + 1] = id
    if key_index > 0 then
      redis.call('SET', KEYS[key_index], fingerprint .. ' ' .. id .. ' 0', 'PX', ARGV[3])
    end
  end
end
redis.call('SET', KEYS[2], cjson.encode(results), 'PX', ARGV[2])
return results
