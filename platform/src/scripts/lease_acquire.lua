-- Takes a lease (the pub/sub forwarding lease, a partition's ownership) if
-- free, renews it if ours. 1 if ours.
-- KEYS[1] lease; ARGV[1] instance id, ARGV[2] ttl ms
local holder = redis.call('GET', KEYS[1])
if holder == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
if not holder then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0
