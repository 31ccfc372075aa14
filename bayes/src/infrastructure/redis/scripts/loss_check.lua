-- Counts the entries that retention trimmed before the group read them, so
-- a loss is reported exactly once and never silently. Runs in one MULTI/EXEC
-- with the XREADGROUP that follows it, so nothing is trimmed in between.
-- KEYS[1] events stream, KEYS[2] model hash
-- ARGV[1] group
local function as_map(reply)
  local map = {}
  for i = 1, #reply, 2 do map[reply[i]] = reply[i + 1] end
  return map
end
local function before(a, b)
  local am, as = string.match(a, '^(%d+)-(%d+)$')
  local bm, bs = string.match(b, '^(%d+)-(%d+)$')
  am, as, bm, bs = tonumber(am), tonumber(as), tonumber(bm), tonumber(bs)
  return am < bm or (am == bm and as < bs)
end

local lost = 0
local stream = as_map(redis.call('XINFO', 'STREAM', KEYS[1]))
local first = stream['first-entry']
if first and stream['entries-added'] then
  for _, reply in ipairs(redis.call('XINFO', 'GROUPS', KEYS[1])) do
    local group = as_map(reply)
    local read = group['entries-read']
    -- Redis cannot say how many entries a group read when it was created on
    -- an already trimmed log; if it never read anything, that is none.
    if not read and group['last-delivered-id'] == '0-0' then
      read = 0
    end
    if group['name'] == ARGV[1] and read and before(group['last-delivered-id'], first[1]) then
      -- Everything before the first entry is gone; all of it after the
      -- group's read position was never read by anyone.
      lost = math.max(0, stream['entries-added'] - stream['length'] - read)
    end
  end
end
if lost > 0 then
  redis.call('HINCRBY', KEYS[2], 'lost', lost)
end
return lost
