-- wrk script: POST /api/posts as JSON, each for a random one of the first BENCH_USERS users.
local users = tonumber(os.getenv("BENCH_USERS") or "1000")

function init(args)
  math.randomseed(os.time() + math.floor(os.clock() * 1000000))
  counter = 0
end

function request()
  counter = counter + 1
  local body = string.format('{"title": "bench %d", "user_id": %d}', counter, math.random(1, users))
  return wrk.format("POST", "/api/posts", {["Content-Type"] = "application/json"}, body)
end
