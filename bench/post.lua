-- wrk script: POST a new, unique user as JSON on every request.
-- Names are unique across threads and runs: run id (from the environment) + thread + counter.
local run = os.getenv("BENCH_RUN") or tostring(os.time())
local threads = 0

function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end

function init(args)
  counter = 0
  -- wrk.format takes one headers table: keep the -H headers (the API token) and add the type.
  headers = {}
  for name, value in pairs(wrk.headers) do headers[name] = value end
  headers["Content-Type"] = "application/json"
end

function request()
  counter = counter + 1
  local name = string.format("b%s_%d_%d", run, tid, counter)
  local body = string.format('{"username": "%s", "email": "%s@bench.example.com"}', name, name)
  return wrk.format("POST", nil, headers, body)
end
