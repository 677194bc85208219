-- wrk script: POST /transactions/sync, rotating over the Items listed by SandboxLoadServer.
-- MODE=resting (default): each Item's resting cursor (the steady-state incremental call: no changes).
-- MODE=full: no cursor, count 100 (the first page of a full history: 100 transactions).
-- MODE=small: no cursor, count 10 (a page of 10 transactions, like an incremental update after a change).
local mode = os.getenv("MODE") or "resting"
local file = os.getenv("TOKENS") or "target/bench/sandbox-tokens.txt"
local bodies = {}
for line in io.lines(file) do
  local token, cursor = line:match("^(%S+) (%S+)$")
  if mode == "full" then
    bodies[#bodies + 1] = '{"access_token":"' .. token .. '","count":100}'
  elseif mode == "small" then
    bodies[#bodies + 1] = '{"access_token":"' .. token .. '","count":10}'
  else
    bodies[#bodies + 1] = '{"access_token":"' .. token .. '","cursor":"' .. cursor .. '","count":100}'
  end
end
local i = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["PLAID-CLIENT-ID"] = "bench-client"
wrk.headers["PLAID-SECRET"] = "bench-secret-0123456789abcdef"

request = function()
  i = i % #bodies + 1
  return wrk.format(nil, "/transactions/sync", nil, bodies[i])
end

local non200 = 0
response = function(status, headers, body)
  if status ~= 200 then
    non200 = non200 + 1
  end
end

done = function(summary, latency, requests)
  io.write(string.format("non-2xx/3xx as counted by wrk: %d\n", summary.errors.status))
end
