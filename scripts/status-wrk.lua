-- wrk script for the relatives' status lookup: POST /api/v1/status with valid bodies for many
-- different real cases, read from the file carepath-status-load -pairs-out wrote.
-- wrk -t2 -c32 -d30s --latency -s scripts/status-wrk.lua URL -- PAIRS_FILE
local requests = {}

function init(args)
  for line in io.lines(args[1]) do
    local number, code = line:match("^(%S+) (%S+)$")
    if number then
      -- formatted once here: building each request in request() cost wrk a third of a core
      requests[#requests + 1] = wrk.format("POST", "/api/v1/status", {["Content-Type"] = "application/json"},
        '{"case_number":"' .. number .. '","access_code":"' .. code .. '"}')
    end
  end
  math.randomseed(os.time() + (tonumber(tostring({}):sub(8)) or 0))
end

function request()
  return requests[math.random(#requests)]
end

-- No response(): wrk counts answers other than 2xx itself ("Non-2xx or 3xx responses", which
-- scripts/bench-status.sh checks), and a Lua response() costs a call per answer.
