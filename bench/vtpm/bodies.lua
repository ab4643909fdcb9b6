-- wrk script: POST / with the form bodies of the file $BODIES, one per line,
-- each sent once (thread i of $THREADS takes lines i, i+T, ...); a thread stops when
-- all its bodies are answered.  Prints the answers by status.
local ffi = require("ffi")
ffi.cdef [[
  typedef struct { long tv_sec; long tv_nsec; } vouch_timespec;
  int clock_gettime(int clk, vouch_timespec *ts);
]]
local function now()
  local t = ffi.new("vouch_timespec")
  ffi.C.clock_gettime(1, t)          -- CLOCK_MONOTONIC
  return tonumber(t.tv_sec) + tonumber(t.tv_nsec) / 1e9
end

local threads = {}
local counter = 0

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

function init(args)
  local nthreads = tonumber(os.getenv("THREADS"))
  reqs, idx, answered, bad = {}, 0, 0, 0
  local i = 0
  for line in io.lines(os.getenv("BODIES")) do
    if i % nthreads == id then
      reqs[#reqs + 1] = wrk.format("POST", "/",
        { ["Content-Type"] = "application/x-www-form-urlencoded" }, line)
    end
    i = i + 1
  end
  spare = wrk.format("GET", "/healthz")
end

function request()
  if idx == 0 then wrk.thread:set("t0", now()) end
  idx = idx + 1
  if idx <= #reqs then return reqs[idx] end
  return spare
end

function response(status, headers, body)
  answered = answered + 1
  if status ~= 200 then
    bad = bad + 1
    if bad <= 2 then io.stderr:write(body .. "\n") end
  end
  wrk.thread:set("answered", answered)
  wrk.thread:set("bad", bad)
  wrk.thread:set("n", #reqs)
  if answered == #reqs then wrk.thread:set("t1", now()) end
  if answered >= #reqs then wrk.thread:stop() end
end

-- The time from the first body sent to the last answered, over all threads.
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
  io.write(string.format("bodies=%d non200=%d seconds=%.2f per_second=%.0f p50_ms=%.2f p99_ms=%.2f\n",
    n, b, t1 - t0, n / (t1 - t0), latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
