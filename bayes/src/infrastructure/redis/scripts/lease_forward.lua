-- Appends a batch of forwarded observations only while holding the lease,
-- checked in the same atomic step, so one pub/sub message is forwarded by
-- one instance. Returns how many were appended (0: not the leader).
-- KEYS[1] lease, KEYS[2] events stream
-- ARGV[1] instance id, ARGV[2] maxlen (0: no trimming), ARGV[3..] trials
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return 0
end
for i = 3, #ARGV do
  if ARGV[2] == '0' then
    redis.call('XADD', KEYS[2], '*', 'trial', ARGV[i], 'source', 'pubsub')
  else
    redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[2], '*', 'trial', ARGV[i], 'source', 'pubsub')
  end
end
return #ARGV - 2
