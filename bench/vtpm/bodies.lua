-- wrk script: POST / with the form bodies of the file $BODIES, one per line,
-- each sent once; a thread stops when all its bodies are answered.  Prints
-- the answers by status.
--
-- A line "KEY<TAB>BODY" belongs to ordering key KEY (a vTPM instance):
-- a thread never has two requests of one key outstanding, so an
-- instance's reports arrive in order and each after the previous one was
-- answered, as an agent sends them.  Thread i of $THREADS takes the keys
-- with KEY % THREADS == i (lines without a key: lines i, i+T, ...).  The
-- request's X-Request-Id names its key; vouchd echoes it in the answer.
-- When every unsent body waits for its key, the connection waits 2 ms and
-- sends a GET /healthz instead (not counted).
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

-- How far past the oldest unsent body a thread looks for one it may send.
local LOOKAHEAD = 256

local threads = {}
local counter = 0

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

function init(args)
  local nthreads = tonumber(os.getenv("THREADS"))
  reqs, keys, sent, busy = {}, {}, {}, {}
  head, answered, bad = 1, 0, 0
  local i = 0
  for line in io.lines(os.getenv("BODIES")) do
    local key, body = line:match("^(%d+)\t(.*)$")
    local mine = key and tonumber(key) % nthreads == id or (not key and i % nthreads == id)
    if mine then
      local n = #reqs + 1
      local rid = key and string.format("bench%sx%d", key, n) or string.format("benchx%d", n)
      reqs[n] = wrk.format("POST", "/", { ["Content-Type"] = "application/x-www-form-urlencoded",
                                         ["X-Request-Id"] = rid }, body or line)
      keys[n] = key
    end
    i = i + 1
  end
  spare = wrk.format("GET", "/healthz")
end

-- wrk calls thread 0's request() once before the run to check what it
-- returns (script_verify_request); that call gets the spare.
-- The next body this thread may send (its index), or nil.
local function next_body()
  while sent[head] do head = head + 1 end
  for j = head, math.min(head + LOOKAHEAD, #reqs) do
    local k = keys[j]
    if not sent[j] and not (k and busy[k]) then return j end
  end
  return nil
end

-- A connection with nothing it may send waits SPARE_DELAY_MS before its
-- spare request instead of spinning on GET /healthz.
local SPARE_DELAY_MS = 2

function delay()
  if verified and head <= #reqs and not next_body() then return SPARE_DELAY_MS end
  return 0
end

function request()
  if id == 0 and not verified then verified = true; return spare end
  verified = true
  if head == 1 and not sent[1] then
    wrk.thread:set("t0", now())
    wrk.thread:set("n", #reqs)
  end
  local j = next_body()
  if not j then return spare end
  sent[j] = true
  if keys[j] then busy[keys[j]] = true end
  return reqs[j]
end

function response(status, headers, body)
  local rid = headers["X-Request-Id"] or headers["x-request-id"] or ""
  if rid:sub(1, 5) ~= "bench" then return end     -- a spare GET /healthz
  local k = rid:match("^bench(%d+)x")
  if k then busy[k] = nil end
  answered = answered + 1
  if status ~= 200 then
    bad = bad + 1
    if bad <= 2 then io.stderr:write(body .. "\n") end
  end
  if answered >= #reqs then
    wrk.thread:set("t1", now())
    wrk.thread:set("bad", bad)
    wrk.thread:stop()
  end
end

-- The time from the first body sent to the last answered, over all threads.
-- The latency percentiles are wrk's, over every request (the few spare
-- GET /healthz included).
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
