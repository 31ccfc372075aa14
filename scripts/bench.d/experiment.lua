-- wrk script: POST /experiments/e<k>/observations with one trial for one of
-- its 3 variants (m<3k+i>), k uniform over EXPERIMENTS experiments.
local experiments = tonumber(os.getenv("EXPERIMENTS") or "1000")
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
request = function()
  local k = math.random(0, experiments - 1)
  local body = string.format('{"variant": "m%d", "trials": "w"}', 3 * k + math.random(0, 2))
  return wrk.format(nil, string.format("/experiments/e%d/observations", k), nil, body)
end
