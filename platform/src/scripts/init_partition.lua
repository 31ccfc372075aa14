-- Prepares a partition for cursor delivery; run until it answers 'ready'.
-- A new partition starts at the beginning of its log. A v1 deployment (a
-- consumer group with pending entries, counts in <prefix>:model) is taken
-- over exactly once: pending entries, delivered to v1 consumers but never
-- acknowledged, are counted and acknowledged here in the same step, a batch
-- per call; then the cursor starts where the group's delivery stopped, so
-- every entry after it is read by cursor. Never deletes anything.
-- KEYS[1] cursor hash, KEYS[2] stream, KEYS[3] dead stream, KEYS[4] models index,
-- KEYS[5] the hash of the model `default`
-- ARGV[1] group, ARGV[2] most pending entries per call, ARGV[3] dead maxlen,
-- ARGV[4] default prior, ARGV[5] default grid points
-- Returns {'ready', 0, 0} or {'pending', counted, lost}.
if redis.call('EXISTS', KEYS[1]) == 1 then
  return {'ready', 0, 0}
end
local function as_map(reply)
  local map = {}
  for i = 1, #reply, 2 do map[reply[i]] = reply[i + 1] end
  return map
end
local group
local groups = redis.pcall('XINFO', 'GROUPS', KEYS[2])
if type(groups) == 'table' and not groups.err then
  for _, reply in ipairs(groups) do
    local g = as_map(reply)
    if g['name'] == ARGV[1] then group = g end
  end
end
if not group then
  redis.call('HSET', KEYS[1], 'id', '0-0', 'read', 0, 'lost', 0)
  redis.call('XGROUP', 'CREATE', KEYS[2], ARGV[1], '0', 'MKSTREAM', 'ENTRIESREAD', 0)
  return {'ready', 0, 0}
end

if group['pending'] > 0 then
  local w, n, lost = 0, 0, 0
  for _, p in ipairs(redis.call('XPENDING', KEYS[2], ARGV[1], '-', '+', ARGV[2])) do
    local id = p[1]
    local entry = redis.call('XRANGE', KEYS[2], id, id)[1]
    redis.call('XACK', KEYS[2], ARGV[1], id)
    if not entry then
      lost = lost + 1
    else
      local fields, trial, extra = entry[2], nil, nil
      for i = 1, #fields, 2 do
        if fields[i] == 'trial' and not trial then trial = fields[i + 1]
        elseif fields[i] ~= 'source' then extra = fields[i] end
      end
      if (trial == 'w' or trial == 'l') and not extra then
        n = n + 1
        if trial == 'w' then w = w + 1 end
      else
        redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[3], '*', 'source', 'log', 'id', id,
          'reason', 'a v1 entry is exactly one "trial" field holding "w" or "l"',
          'raw', string.sub(table.concat(fields, ' '), 1, 256))
      end
    end
  end
  if n > 0 then
    redis.call('HSETNX', KEYS[5], 'prior', ARGV[4])
    redis.call('HSETNX', KEYS[5], 'grid_points', ARGV[5])
    redis.call('HINCRBY', KEYS[5], 'w', w)
    redis.call('HINCRBY', KEYS[5], 'n', n)
  end
  if lost > 0 then
    -- Where v1 reported its losses.
    redis.call('HINCRBY', KEYS[5], 'lost', lost)
  end
  return {'pending', n, lost}
end

-- Nothing pending: every entry up to last-delivered-id was counted by v1.
local last = group['last-delivered-id']
local read = group['entries-read']
if not read then
  -- Unknown to Redis (a group made on a trimmed log): entries gone before
  -- the first plus those still there up to the delivery point.
  local info = as_map(redis.call('XINFO', 'STREAM', KEYS[2]))
  read = info['entries-added'] - info['length'] + #redis.call('XRANGE', KEYS[2], '-', last)
end
redis.call('HSET', KEYS[1], 'id', last, 'read', read, 'lost', 0)
redis.call('XGROUP', 'SETID', KEYS[2], ARGV[1], last, 'ENTRIESREAD', read)
if redis.call('EXISTS', KEYS[5]) == 1 then
  redis.call('ZADD', KEYS[4], 0, 'default')
end
return {'ready', 0, 0}
