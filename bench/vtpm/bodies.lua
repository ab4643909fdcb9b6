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
-- Per thread: the request strings, each key's queue of them in file order
-- (queue[k], its next position pos[k]), the keys that may send now (a FIFO
-- of keys neither busy nor drained: ready[rh..rt]) and the bodies without
-- a key (free[fh..]).  A key is in the FIFO at most once and never while
-- its request is outstanding, so a request costs O(1), not a scan.

dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "wrk_common.lua")

function init(args)
  local nthreads = tonumber(os.getenv("THREADS"))
  reqs, queue, pos, ready, free = {}, {}, {}, {}, {}
  rh, rt, fh, unsent, answered, bad = 1, 0, 1, 0, 0, 0
  local i = 0
  for line in io.lines(os.getenv("BODIES")) do
    local key, body = line:match("^(%d+)\t(.*)$")
    local mine = key and tonumber(key) % nthreads == id or (not key and i % nthreads == id)
    if mine then
      local n = #reqs + 1
      local rid = key and string.format("bench%sx%d", key, n) or string.format("benchx%d", n)
      reqs[n] = wrk.format("POST", "/", { ["Content-Type"] = "application/x-www-form-urlencoded",
                                         ["X-Request-Id"] = rid }, body or line)
      if key then
        if not queue[key] then
          queue[key], pos[key] = {}, 1
          rt = rt + 1
          ready[rt] = key
        end
        table.insert(queue[key], n)
      else
        table.insert(free, n)
      end
    end
    i = i + 1
  end
  unsent = #reqs
  spare = wrk.format("GET", "/healthz")
end

-- wrk calls thread 0's request() once before the run to check what it
-- returns (script_verify_request); that call gets the spare.

-- A connection with nothing it may send waits SPARE_DELAY_MS before its
-- spare request instead of spinning on GET /healthz.
local SPARE_DELAY_MS = 2

function delay()
  if verified and unsent > 0 and rh > rt and fh > #free then return SPARE_DELAY_MS end
  return 0
end

function request()
  if id == 0 and not verified then verified = true; return spare end
  verified = true
  local j
  if rh <= rt then                    -- the longest-waiting key sends its next body
    local k = ready[rh]
    ready[rh] = nil
    rh = rh + 1
    local p = pos[k]
    j = queue[k][p]
    pos[k] = p + 1
  elseif fh <= #free then
    j = free[fh]
    fh = fh + 1
  else
    return spare
  end
  if unsent == #reqs then
    wrk.thread:set("t0", now())
    wrk.thread:set("n", #reqs)
  end
  unsent = unsent - 1
  return reqs[j]
end

function response(status, headers, body)
  local rid = headers["X-Request-Id"] or headers["x-request-id"] or ""
  if rid:sub(1, 5) ~= "bench" then return end     -- a spare GET /healthz
  local k = rid:match("^bench(%d+)x")
  if k and queue[k][pos[k]] then                 -- the key's next body may go now
    rt = rt + 1
    ready[rt] = k
  end
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
