-- wrk script: POST the sample event ($EVENT_JSON) to /v1/events and print
-- one machine-readable line at the end:
--   RESULT <req/s> <p50 us> <p99 us> <non-2xx> <socket errors> <requests>
local f = assert(io.open(os.getenv("EVENT_JSON") or "event.json", "rb"))
wrk.method = "POST"
wrk.path = "/v1/events"
wrk.body = f:read("*a"):gsub("%s+$", "")
wrk.headers["Content-Type"] = "application/json"
f:close()

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT %.0f %.0f %.0f %d %d %d\n",
    summary.requests / (summary.duration / 1e6),
    latency:percentile(50), latency:percentile(99),
    e.status, e.connect + e.read + e.write + e.timeout, summary.requests))
end
