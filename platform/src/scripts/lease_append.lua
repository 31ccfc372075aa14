-- Appends to a stream only while holding the lease, checked in the same
-- atomic step, so one pub/sub message is forwarded by one instance.
-- KEYS[1] the lease's fence in the stream's partition, KEYS[2] stream
-- ARGV[1] instance id, ARGV[2] maxlen (0: no trimming), ARGV[3..] field/value pairs
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return 0
end
if ARGV[2] == '0' then
  redis.call('XADD', KEYS[2], '*', unpack(ARGV, 3))
else
  redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[2], '*', unpack(ARGV, 3))
end
return 1
