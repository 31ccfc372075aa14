-- Takes over entries left pending longer than min-idle (their consumer died)
-- and counts the pending entries retention trimmed meanwhile as lost.
-- KEYS[1] events stream, KEYS[2] model hash
-- ARGV[1] group, ARGV[2] consumer, ARGV[3] min idle ms, ARGV[4] cursor, ARGV[5] count
local reply = redis.call('XAUTOCLAIM', KEYS[1], ARGV[1], ARGV[2], ARGV[3], ARGV[4], 'COUNT', ARGV[5])
local deleted = reply[3] and #reply[3] or 0
if deleted > 0 then
  redis.call('HINCRBY', KEYS[2], 'lost', deleted)
end
return {reply[1], reply[2], deleted}
