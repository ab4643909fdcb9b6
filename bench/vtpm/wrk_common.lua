-- What bench/vtpm/bodies.lua and describe.lua share (loaded with dofile from
-- the same directory): the thread list, a monotonic clock, and done(), which
-- prints the time from the first body sent to the last answered, over all
-- threads.  Each thread sets "t0" and "n" when it sends its first body, and
-- "t1" and "bad" when all its bodies are answered.  The latency percentiles
-- are wrk's, over every request (the few spare GET /healthz included).
local ffi = require("ffi")
ffi.cdef [[
  typedef struct { long tv_sec; long tv_nsec; } vouch_timespec;
  int clock_gettime(int clk, vouch_timespec *ts);
]]

threads = {}
local counter = 0

function now()
  local t = ffi.new("vouch_timespec")
  ffi.C.clock_gettime(1, t)          -- CLOCK_MONOTONIC
  return tonumber(t.tv_sec) + tonumber(t.tv_nsec) / 1e9
end

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

function done(summary, latency, requests)
  local n, b, t0, t1 = 0, 0, nil, nil
  for _, t in ipairs(threads) do
    n = n + (t:get("n") or 0)
    b = b + (t:get("bad") or 0)
    local s, e = t:get("t0"), t:get("t1")
    if s and (not t0 or s < t0) then t0 = s end
    if not e then t1 = nil; break end
    if not t1 or e > t1 then t1 = e end
  end
  if not t1 then
    io.write("bodies=" .. n .. " not all answered within -d\n")
    return
  end
  io.write(string.format("bodies=%d non200=%d seconds=%.2f per_second=%.0f p50_ms=%.2f p99_ms=%.2f spare=%d\n",
    n, b, t1 - t0, n / (t1 - t0), latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.requests - n))
end
