#!lua flags=no-writes
-- Reads model hashes for the apply's cache: per key, the fields in ARGV
-- (stored_model::FIELDS), nil where absent. A script, not a pipeline of HMGETs, so it
-- is routed on a cluster exactly as the apply is (by its keys' one slot),
-- and read-only (no-writes), so it runs while Redis refuses writes.
-- KEYS: the model hashes. Returns one array of #ARGV values per key.
local models = {}
for i, key in ipairs(KEYS) do
  models[i] = redis.call('HMGET', key, unpack(ARGV))
end
return models
