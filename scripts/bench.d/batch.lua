-- wrk script: POST /update_model with a batch of 1,000 trials.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"trials": "' .. string.rep("wwl", 333) .. 'w"}'
