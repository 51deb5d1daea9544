-- wrk script for the lifecycle events figure: POST /api/v1/cases/{id}/events with If-Match over
-- many residing cases, the same walk as `carepath-load -scenario events` (residing -> on leave or
-- in hospital -> residing), in C instead of Go so that the load takes little of the CPU it
-- measures. Each wrk thread owns its share of the cases and never has two requests in flight
-- for one case, so every answer but 200 is a real error (wrk counts them as Non-2xx).
--
-- wrk -t2 -c16 -d30s --latency -s scripts/events-wrk.lua URL -- CASES_FILE TOKEN THREADS
-- CASES_FILE: one "case_id version" per line, residing cases (scripts/bench.sh writes it).

local counter = 0
function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
end

local cases, byid = {}, {}
local nextc = 1
local token
local bad = 0

function init(args)
  token = args[2]
  local threads = tonumber(args[3]) or 1
  local n = 0
  for line in io.lines(args[1]) do
    local id, version = line:match("^(%S+)%s+(%d+)$")
    if id then
      if n % threads == tid then
        local c = {id = id, version = tonumber(version), state = "residing", leave = (n % 2 == 0), busy = false}
        cases[#cases + 1] = c
        byid[id] = c
      end
      n = n + 1
    end
  end
  if #cases == 0 then error("events-wrk: no cases for thread " .. tid .. " in " .. args[1]) end
end

local function body(c)
  if c.state == "residing" then
    if c.leave then
      c.dest = "on_leave"
      return '{"event":"start_leave","return_by":"' .. os.date("%Y-%m-%d", os.time() + 7 * 86400) .. '"}'
    end
    c.dest = "hospitalized"
    return '{"event":"hospitalize"}'
  elseif c.state == "on_leave" then
    c.dest = "residing"
    return '{"event":"end_leave"}'
  end
  c.dest = "residing"
  return '{"event":"end_hospitalization"}'
end

function request()
  local c
  for _ = 1, #cases do
    c = cases[nextc]
    nextc = nextc % #cases + 1
    if not c.busy then break end
  end
  c.busy = true
  return wrk.format("POST", "/api/v1/cases/" .. c.id .. "/events", {
    ["Authorization"] = "Bearer " .. token,
    ["Content-Type"] = "application/json",
    ["If-Match"] = '"' .. c.version .. '"',
  }, body(c))
end

function response(status, headers, resp)
  if status ~= 200 then
    bad = bad + 1 -- the case stays busy: out of the walk, as it is out of step
    return
  end
  local c = byid[resp:match('^{"id":"([^"]+)"')]
  if not c then
    bad = bad + 1
    return
  end
  c.version = tonumber((headers["Etag"] or headers["ETag"] or ""):match("(%d+)")) or c.version
  c.state, c.busy = c.dest, false
  if c.state ~= "residing" then return end
  c.leave = not c.leave
end

-- done writes the figures as JSON to $EVENTS_JSON (the shape carepath-load -json writes).
function done(summary, latency, requests)
  local path = os.getenv("EVENTS_JSON")
  if not path then return end
  local errs = summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout
  local secs = summary.duration / 1e6
  local function ms(us) return string.format("%.2f", us / 1000) end
  local f = assert(io.open(path, "w"))
  f:write(string.format('{"tool": "wrk", "scenario": "events", "seconds": %.2f, "requests": %d, "throughput_rps": %.1f, ' ..
    '"errors": %d, "errors_by_status": {"non_2xx": %d, "socket": %d}, ' ..
    '"latency": {"p50_ms": %s, "p95_ms": %s, "p99_ms": %s, "max_ms": %s, "mean_ms": %s}}\n',
    secs, summary.requests, summary.requests / secs, errs, summary.errors.status, errs - summary.errors.status,
    ms(latency:percentile(50)), ms(latency:percentile(95)), ms(latency:percentile(99)), ms(latency.max), ms(latency.mean)))
  f:close()
end
