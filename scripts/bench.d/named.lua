-- wrk script: POST /models/m<k>/observations with one trial, k uniform over MODELS models.
local models = tonumber(os.getenv("MODELS") or "10000")
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"trials": "w"}'
request = function()
  return wrk.format(nil, string.format("/models/m%d/observations", math.random(0, models - 1)))
end
