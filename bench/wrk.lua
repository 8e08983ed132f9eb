-- wrk script of bench/run.sh: every request is new work, and every answer
-- is checked against the Dapr status it must have.
--
-- Environment (set by bench/bench.py):
--   BENCH_KIND   readyz | reminder | task | bulk_task | bulk_reminder
--   BENCH_TAG    8 hex digits, unique per point (keys of ids and tasks)
--   BENCH_BATCH  entries per bulk request (default 100)
--   BENCH_SEEDED completed tasks seeded per wrk thread for this point
-- Task ids are "<tag>-0000-4000-8<thread, 3 hex>-<n, 12 hex>", n = 1..SEEDED,
-- exactly as bench.py seeds them. Prints one line "BENCH_JSON {...}".

local kind = os.getenv("BENCH_KIND")
local tag = os.getenv("BENCH_TAG")
local batch = tonumber(os.getenv("BENCH_BATCH") or "100")
local seeded = tonumber(os.getenv("BENCH_SEEDED") or "0")
local threads = {}

function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end

-- per-thread state (tid is set by setup)
n, answers, bad, wrapped, sample = 0, 0, 0, 0, ""

local function next_n()
  n = n + 1
  if seeded > 0 and n > seeded then
    wrapped = wrapped + 1 -- out of seeded tasks: a redelivery, not new work
    return (n - 1) % seeded + 1
  end
  return n
end

local function task_id(k)
  return string.format("%s-0000-4000-8%03x-%012x", tag, tid, k)
end

local function envelope(id, typ, topic, data)
  return '{"specversion":"1.0","id":"' .. id .. '","source":"bench","type":"' .. typ ..
    '","datacontenttype":"application/json","topic":"' .. topic ..
    '","pubsubname":"kafka-pubsub","data":' .. data .. '}'
end

local function reminder_event()
  local k = next_n()
  local data = '{"task_id":"' .. string.format("%s-1111-4000-8%03x-%012x", tag, tid, k) ..
    '","user_id":"bench-user","title":"Bench reminder","due_at":"2026-12-01T09:00:00Z",' ..
    '"remind_at":"2026-12-01T08:30:00Z","channels":["email","push"]}'
  return envelope(string.format("r-%s-%d-%d", tag, tid, k), "reminder.due", "reminders", data)
end

local function task_event()
  local k = next_n()
  local data = '{"task_id":"' .. task_id(k) ..
    '","user_id":"bench-user","completed_at":"2026-03-02T10:00:00Z","has_recurrence":true}'
  return envelope(string.format("t-%s-%d-%d", tag, tid, k), "task.completed", "task-events", data)
end

local function bulk(make, topic)
  local entries = {}
  for i = 1, batch do
    entries[i] = '{"entryId":"e' .. i .. '","event":' .. make() ..
      ',"contentType":"application/cloudevents+json","metadata":{}}'
  end
  return '{"entries":[' .. table.concat(entries, ",") .. '],"id":"bulk-' .. tag .. '-' .. tid .. '-' .. n ..
    '","metadata":{},"pubsubname":"kafka-pubsub","topic":"' .. topic .. '","type":"com.dapr.event.sent.bulk"}'
end

local ce = { ["Content-Type"] = "application/cloudevents+json" }
local js = { ["Content-Type"] = "application/json" }

function request()
  if kind == "readyz" then
    return wrk.format("GET", "/recurrence/readyz")
  elseif kind == "reminder" then
    return wrk.format("POST", "/events/reminders", ce, reminder_event())
  elseif kind == "task" then
    return wrk.format("POST", "/events/task-events", ce, task_event())
  elseif kind == "bulk_task" then
    return wrk.format("POST", "/events/task-events", js, bulk(task_event, "task-events"))
  elseif kind == "bulk_reminder" then
    return wrk.format("POST", "/events/reminders", js, bulk(reminder_event, "reminders"))
  end
  error("unknown BENCH_KIND " .. tostring(kind))
end

local expected = (kind == "bulk_task" or kind == "bulk_reminder") and batch or 1

function response(status, headers, body)
  answers = answers + 1
  local ok = 0
  if status == 200 then
    if kind == "readyz" then
      ok = 1
    else
      for _ in body:gmatch('"status"%s*:%s*"SUCCESS"') do ok = ok + 1 end
    end
  end
  if ok ~= expected then
    bad = bad + 1
    if sample == "" then sample = status .. " " .. string.sub(body or "", 1, 300) end
  end
end

function done(summary, latency, requests)
  local a, b, w, s = 0, 0, 0, ""
  for _, t in ipairs(threads) do
    a = a + t:get("answers")
    b = b + t:get("bad")
    w = w + t:get("wrapped")
    if s == "" then s = t:get("sample") end
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"duration_us":%d,"answers":%d,"bad":%d,"wrapped":%d,' ..
    '"socket_errors":%d,"timeouts":%d,"p50_us":%d,"p95_us":%d,"p99_us":%d,"max_us":%d,"sample":"%s"}\n',
    summary.requests, summary.duration, a, b, w,
    e.connect + e.read + e.write, e.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max,
    s:gsub('[%c"\\]', " ")))
end
