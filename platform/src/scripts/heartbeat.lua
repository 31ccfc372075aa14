-- Registers a bayes instance as alive until now + ttl, forgets instances
-- whose registration expired, and answers how many are alive: each
-- instance owns about PARTITIONS / alive partitions. Redis's clock, so
-- the instances' clocks need not agree.
-- KEYS[1] instances (sorted set scored by expiry in ms); ARGV[1] instance, ARGV[2] ttl ms
local now = redis.call('TIME')
local ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ms)
redis.call('ZADD', KEYS[1], ms + tonumber(ARGV[2]), ARGV[1])
return redis.call('ZCARD', KEYS[1])
