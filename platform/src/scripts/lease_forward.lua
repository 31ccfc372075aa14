-- Appends forwarded pub/sub observations to a partition's log only while
-- holding the forwarding lease, checked in the same atomic step, so one
-- PUBLISH is forwarded by one instance. One group-commit entry per model.
-- KEYS[1] the lease's fence in this partition, KEYS[2] the partition's stream
-- ARGV[1] instance id, ARGV[2] maxlen (0: no trimming), then (model, trials) pairs;
-- a model '' is `default` (its entries carry no model field, as v1's did)
-- Returns the number of entries appended (0: not the leader).
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return 0
end
local appended = 0
for i = 3, #ARGV, 2 do
  local entry = {}
  if ARGV[2] ~= '0' then
    entry = {'MAXLEN', '~', ARGV[2]}
  end
  entry[#entry + 1] = '*'
  if ARGV[i] ~= '' then
    entry[#entry + 1] = 'model'
    entry[#entry + 1] = ARGV[i]
  end
  entry[#entry + 1] = 'trials'
  entry[#entry + 1] = ARGV[i + 1]
  entry[#entry + 1] = 'source'
  entry[#entry + 1] = 'pubsub'
  redis.call('XADD', KEYS[2], unpack(entry))
  appended = appended + 1
end
return appended
