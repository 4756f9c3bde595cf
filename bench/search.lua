-- wrk script for bench/search.sh: each thread goes round the request paths
-- listed one a line in the file given after "--" (wrk ... -s search.lua URL -- PATHS),
-- and at the end prints one line "WRKJSON {...}" with the counts and the
-- latency percentiles in microseconds.
local requests = {}
local n = 0

function init(args)
  local f = assert(io.open(args[1], "r"))
  for line in f:lines() do
    if #line > 0 then requests[#requests + 1] = wrk.format("GET", line) end
  end
  f:close()
  assert(#requests > 0, "no paths in " .. args[1])
  n = math.random(#requests) - 1
end

function request()
  n = n % #requests + 1
  return requests[n]
end

function done(summary, latency, _)
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests": %d, "duration_us": %d, "socket_errors": %d, "non2xx": %d, ' ..
    '"p50_us": %d, "p99_us": %d, "mean_us": %.1f, "max_us": %d}\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.timeout, e.status,
    latency:percentile(50), latency:percentile(99), latency.mean, latency.max))
end
