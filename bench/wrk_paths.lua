-- wrk script for bench/run.py: each request takes the next path of the file
-- named by the WRK_PATHS environment variable (one URL path per line), so
-- the whole query set is cycled through; non-2xx answers are counted.
local paths = {}
local f = assert(io.open(os.getenv("WRK_PATHS"), "r"))
for line in f:lines() do
  if #line > 0 then paths[#paths + 1] = line end
end
f:close()

local counter = 0
function setup(thread)
  thread:set("offset", counter * 7919)
  counter = counter + 1
end

local i = 0
function request()
  i = i + 1
  local path = paths[((offset + i) % #paths) + 1]
  return wrk.format("GET", path)
end
