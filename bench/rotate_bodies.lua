-- wrk script for bench/poll_bench.py.
-- Usage: wrk -s rotate_bodies.lua URL -- BODIES_FILE [MARKER ...]
-- Rotates through the pre-built OpenADR bodies (one per line), POSTs them as
-- application/xml, counts responses that are not HTTP 2xx or whose body lacks
-- one of the MARKER substrings, and prints one machine-readable BENCH_RESULT line
-- (preceded by a BENCH_BAD_SAMPLE line with the first such body, if any).

local threads = {}
local thread_count = 0

function setup(thread)
   thread:set("id", thread_count)
   thread_count = thread_count + 1
   table.insert(threads, thread)
end

function init(args)
   local path = args[1]
   markers = {}
   for i = 2, #args do
      table.insert(markers, args[i])
   end
   non2xx = 0
   unexpected = 0
   reqs = {}
   local headers = { ["Content-Type"] = "application/xml" }
   for line in io.lines(path) do
      if #line > 0 then
         table.insert(reqs, wrk.format("POST", nil, headers, line))
      end
   end
   if #reqs == 0 then
      error("no bodies in " .. path)
   end
   -- Stagger the threads so they do not walk the VENs in lockstep.
   idx = (id * 7919) % #reqs
end

function request()
   idx = idx + 1
   if idx > #reqs then
      idx = 1
   end
   return reqs[idx]
end

function response(status, headers, body)
   if status < 200 or status > 299 then
      non2xx = non2xx + 1
   else
      for _, marker in ipairs(markers) do
         if not string.find(body, marker, 1, true) then
            unexpected = unexpected + 1
            if unexpected == 1 then
               bad_sample = string.sub(string.gsub(body, "%s+", " "), 1, 600)
            end
            return
         end
      end
   end
end

function done(summary, latency, requests)
   local non2xx_total = 0
   local unexpected_total = 0
   for _, thread in ipairs(threads) do
      non2xx_total = non2xx_total + (thread:get("non2xx") or 0)
      unexpected_total = unexpected_total + (thread:get("unexpected") or 0)
   end
   for _, thread in ipairs(threads) do
      local sample = thread:get("bad_sample")
      if sample then
         io.write("BENCH_BAD_SAMPLE " .. sample .. "\n")
         break
      end
   end
   local e = summary.errors
   io.write(string.format(
      "BENCH_RESULT requests=%d duration_us=%d p50_us=%d p90_us=%d "
         .. "p99_us=%d max_us=%d non2xx=%d unexpected=%d connect_err=%d "
         .. "read_err=%d write_err=%d timeouts=%d status_err=%d\n",
      summary.requests, summary.duration,
      latency:percentile(50), latency:percentile(90),
      latency:percentile(99), latency.max,
      non2xx_total, unexpected_total, e.connect, e.read, e.write,
      e.timeout, e.status))
end
