-- Replays distinct pre-signed Twilio webhooks for wrk (bench_webhooks.py writes the file).
-- Arguments: file first count [delay_ms [in_step]]. Line i of the file is "signature<TAB>form body";
-- this run posts lines first+1 .. first+count once each, then starts over (counted as repeats).
-- With delay_ms, each connection waits a random time of that mean before each request
-- (exponential: independent senders, a Poisson stream in all), not the same time every time,
-- which keeps the connections in step and turns the load into bursts of one per connection
-- (that, with in_step = 1: the same pause every time).
local signatures, bodies, n, i = {}, {}, 0, 0
repeats = 0 -- global: done() reads it from each thread
local pause, in_step = 0, false
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  math.randomseed(os.time())
  local first, count = tonumber(args[2]), tonumber(args[3])
  pause = tonumber(args[4] or "0")
  in_step = args[5] == "1"
  local line_no = 0
  for line in io.lines(args[1]) do
    line_no = line_no + 1
    if line_no > first + count then break end
    if line_no > first then
      local tab = line:find("\t", 1, true)
      n = n + 1
      signatures[n] = line:sub(1, tab - 1)
      bodies[n] = line:sub(tab + 1)
    end
  end
end

function request()
  i = i + 1
  if i > n then
    i, repeats = 1, repeats + 1
  end
  local headers = {
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["X-Twilio-Signature"] = signatures[i],
  }
  return wrk.format("POST", wrk.path, headers, bodies[i])
end

function delay()
  if pause == 0 or in_step then return pause end
  return math.floor(-pause * math.log(1 - math.random()) + 0.5)
end

function done(summary, latency, requests)
  local repeated = 0
  for _, thread in ipairs(threads) do
    repeated = repeated + thread:get("repeats")
  end
  local errors = summary.errors
  io.write(string.format(
    'WRK {"requests": %d, "duration_us": %d, "status_errors": %d, "socket_errors": %d, '
      .. '"p50_us": %d, "p99_us": %d, "max_us": %d, "repeats": %d}\n',
    summary.requests, summary.duration, errors.status,
    errors.connect + errors.read + errors.write + errors.timeout,
    latency:percentile(50), latency:percentile(99), latency.max, repeated))
end
