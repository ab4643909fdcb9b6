-- wrk script of bench/vtpm/describe.sh: POST / with the form bodies of the
-- file $BODIES, one per line, each sent once; thread i of $THREADS sends
-- lines i, i+T, i+2T, ... in order.  DescribeInstance needs no ordering
-- (bodies.lua's per-instance keys and look-ahead are for reports), so a
-- request costs wrk one table read.  Each request carries
-- X-Request-Id "bench<n>", which vouchd echoes, to tell its answer from a
-- spare GET /healthz (sent by a connection once its thread has sent
-- everything).  A thread stops when all its bodies are answered and then
-- appends a line to $DONE (describe.sh interrupts wrk when every thread
-- has: wrk itself waits out -d).  Prints the answers by status.

dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "wrk_common.lua")

function init(args)
  local nthreads = tonumber(os.getenv("THREADS"))
  reqs, nxt, answered, bad = {}, 1, 0, 0
  local i = 0
  for line in io.lines(os.getenv("BODIES")) do
    if i % nthreads == id then
      local n = #reqs + 1
      reqs[n] = wrk.format("POST", "/", { ["Content-Type"] = "application/x-www-form-urlencoded",
                                         ["X-Request-Id"] = "bench" .. n }, line)
    end
    i = i + 1
  end
  spare = wrk.format("GET", "/healthz")
end

-- A connection whose thread has sent everything waits SPARE_DELAY_MS before
-- each spare, so the spares stay few while the last answers come in.
local SPARE_DELAY_MS = 5

function delay()
  if nxt > #reqs then return SPARE_DELAY_MS end
  return 0
end

-- wrk calls thread 0's request() once before the run to check what it
-- returns (script_verify_request); that call gets the spare.
function request()
  if id == 0 and not verified then verified = true; return spare end
  verified = true
  local j = nxt
  if j > #reqs then return spare end
  if j == 1 then
    wrk.thread:set("t0", now())
    wrk.thread:set("n", #reqs)
  end
  nxt = j + 1
  return reqs[j]
end

function response(status, headers, body)
  local rid = headers["X-Request-Id"] or headers["x-request-id"]
  if not rid or rid:sub(1, 5) ~= "bench" then return end     -- a spare
  answered = answered + 1
  if status ~= 200 then
    bad = bad + 1
    if bad <= 2 then io.stderr:write(body .. "\n") end
  end
  if answered >= #reqs then
    wrk.thread:set("t1", now())
    wrk.thread:set("bad", bad)
    local done = os.getenv("DONE")
    if done then
      local f = io.open(done, "a")
      f:write("done\n")
      f:close()
    end
    wrk.thread:stop()
  end
end
