-- One client of the concurrent-counting spec: records COUNT failures on the throttling
-- counter KEY through infra.throttle_counters. Run with `itcloud run`.
for name, module in pairs(core) do
  package.preload["core." .. name] = function()
    return module
  end
end
local counters = require("infra.throttle_counters")

for _ = 1, tonumber(os.getenv("COUNT")) do
  assert(counters.record_failure(os.getenv("KEY"), 1000, 900))
end
