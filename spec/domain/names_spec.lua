local names = require("domain.names")

describe("domain.names", function()
  describe("album_title", function()
    it("trims and collapses whitespace", function()
      assert.equal("Summer 2024", names.album_title("  Summer \t\n 2024  "))
      assert.equal("Été à Paris", names.album_title("Été à Paris"))
    end)

    it("refuses empty, too long, control characters and non-strings", function()
      for _, raw in ipairs({ "", "   ", string.rep("é", names.TITLE_MAX + 1), "a\1b", "a\rb",
        "a\0b", "a\127b", 42 }) do
        local title, problem = names.album_title(raw)
        assert.is_nil(title)
        assert.is_string(problem)
      end
      assert.equal(names.TITLE_MAX, utf8.len(names.album_title(string.rep("é", names.TITLE_MAX))))
    end)

    it("refuses invalid UTF-8", function()
      assert.is_nil(names.album_title("bad \xff byte"))
    end)
  end)

  describe("tag", function()
    it("gives the name as written and a case-folded key", function()
      local name, key = names.tag("  Beach   Day ")
      assert.equal("Beach Day", name)
      assert.equal("beach day", key)
      assert.equal(key, select(2, names.tag("BEACH DAY")))
    end)

    it("refuses what a title refuses, with a tag's length limit", function()
      assert.is_nil(names.tag(string.rep("t", names.TAG_MAX + 1)))
      assert.is_nil(names.tag(" "))
      assert.is_nil(names.tag("x\27[31m"))
      assert.equal(string.rep("t", names.TAG_MAX), names.tag(string.rep("t", names.TAG_MAX)))
    end)
  end)
end)
