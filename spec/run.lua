-- Entry point of the spec suite, run by the project's own binary so specs use the
-- same `core` as the server:  bin/itcloud run spec/run.lua [busted options] spec/
require("busted.runner")({ standalone = false })
