-- wrk script: a random page of the dashboard per request, as a browser
-- asks for it (session cookie, gzip accepted); URLs from $URLS (bench/web_urls.py).
local urls = {}
for line in io.lines(os.getenv("URLS") or "urls.txt") do urls[#urls + 1] = line end
local cookie = os.getenv("COOKIE")
local counter = 0
function setup(thread)
  counter = counter + 1
  thread:set("seed", counter)
end
function init(args)
  math.randomseed(seed * 7919)
end
request = function()
  local path = urls[math.random(#urls)]
  return wrk.format("GET", path, { ["Cookie"] = cookie, ["Accept-Encoding"] = "gzip, deflate" })
end
local non200 = 0
response = function(status, headers, body)
  if status ~= 200 then non200 = non200 + 1 end
end
done = function(summary, latency, requests)
  io.write(string.format("requests %d, errors connect %d read %d write %d status %d timeout %d\n",
    summary.requests, summary.errors.connect, summary.errors.read, summary.errors.write, summary.errors.status, summary.errors.timeout))
  for _, p in pairs({ 50, 90, 99, 99.9 }) do
    io.write(string.format("p%g %.2f ms\n", p, latency:percentile(p) / 1000))
  end
  io.write(string.format("max %.2f ms\n", latency.max / 1000))
end
