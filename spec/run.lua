-- Entry point of the spec suite, run by the project's own binary so specs use the
-- same `core` as the server:  bin/itcloud run spec/run.lua [busted options] spec/

-- The app's modules say require("core.json") as the server's sandboxed require
-- allows; answer those here the same way, with the fields of the global `core`.
for name, module in pairs(core) do
  package.preload["core." .. name] = function()
    return module
  end
end

require("busted.runner")({ standalone = false })
