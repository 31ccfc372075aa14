-- Counts the entries retention trimmed before they were applied, so a loss
-- is reported exactly once and never silently. Runs in one MULTI/EXEC with
-- the XREAD that follows it, so nothing is trimmed in between.
-- Everything before the stream's first entry is gone; if the cursor is
-- before it, the entries gone that the cursor has not counted as read were
-- never applied. They are added to `lost` and to `read` (so the group's
-- ENTRIESREAD, and thus its lag, stays true).
-- KEYS[1] cursor hash, KEYS[2] stream
local cursor = redis.call('HMGET', KEYS[1], 'id', 'read')
if not cursor[1] then
  return 0
end
local info = redis.pcall('XINFO', 'STREAM', KEYS[2])
if type(info) ~= 'table' or info.err then
  return 0
end
local stream = {}
for i = 1, #info, 2 do stream[info[i]] = info[i + 1] end
local first = stream['first-entry']
if not first or not stream['entries-added'] then
  return 0
end
local function before(a, b)
  local am, as = string.match(a, '^(%d+)-(%d+)$')
  local bm, bs = string.match(b, '^(%d+)-(%d+)$')
  am, as, bm, bs = tonumber(am), tonumber(as), tonumber(bm), tonumber(bs)
  return am < bm or (am == bm and as < bs)
end
if not before(cursor[1], first[1]) then
  return 0
end
local gone = stream['entries-added'] - stream['length']
local lost = gone - tonumber(cursor[2] or '0')
if lost <= 0 then
  return 0
end
redis.call('HINCRBY', KEYS[1], 'lost', lost)
redis.call('HSET', KEYS[1], 'read', gone)
return lost
