-- `itcloud run FILE args...`: the arguments reach the script as `...` and `arg`, however
-- many there are (the C stack grows to fit them).
describe("itcloud run", function()
  it("passes hundreds of arguments to the script", function()
    local script = os.tmpname()
    local file = assert(io.open(script, "w"))
    file:write('print(select("#", ...), #arg, arg[0] ~= nil, (select(250, ...)))')
    file:close()
    local args = {}
    for i = 1, 250 do
      args[i] = tostring(i)
    end
    local binary = os.getenv("ITCLOUD_BIN") or "bin/itcloud"
    local handle = io.popen(binary .. " run " .. script .. " " .. table.concat(args, " ") .. " 2>&1")
    local output = handle:read("a")
    handle:close()
    os.remove(script)
    assert.equal("250\t250\ttrue\t250\n", output)
  end)
end)
