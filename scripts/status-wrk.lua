-- wrk script for the relatives' status lookup: POST /api/v1/status with valid bodies for many
-- different real cases, read from the file carepath-status-load -pairs-out wrote.
-- wrk -t2 -c32 -d30s --latency -s scripts/status-wrk.lua URL -- PAIRS_FILE
local bodies = {}
local bad = 0

function init(args)
  for line in io.lines(args[1]) do
    local number, code = line:match("^(%S+) (%S+)$")
    if number then
      bodies[#bodies + 1] = '{"case_number":"' .. number .. '","access_code":"' .. code .. '"}'
    end
  end
  math.randomseed(os.time() + (tonumber(tostring({}):sub(8)) or 0))
end

function request()
  return wrk.format("POST", "/api/v1/status", {["Content-Type"] = "application/json"}, bodies[math.random(#bodies)])
end

function response(status)
  if status ~= 200 then bad = bad + 1 end
end
