-- Removes a consumer from the group, but only if it holds no pending entries
-- (DELCONSUMER would drop them).
-- KEYS[1] events stream; ARGV[1] group, ARGV[2] consumer
if #redis.call('XPENDING', KEYS[1], ARGV[1], '-', '+', 1, ARGV[2]) == 0 then
  return redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], ARGV[2])
end
return -1
