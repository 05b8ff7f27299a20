local page_cache = require("infra.page_cache")

describe("infra.page_cache", function()
  it("keeps a page under its key", function()
    local page = { items = {} }
    page_cache.put("spec-page-cache|a", page, 100)
    assert.equal(page, page_cache.get("spec-page-cache|a"))
    assert.is_nil(page_cache.get("spec-page-cache|b"))
  end)

  it("does not keep pages larger than half a megabyte", function()
    page_cache.put("spec-page-cache|big", {}, 600 * 1024)
    assert.is_nil(page_cache.get("spec-page-cache|big"))
  end)

  it("starts over when full instead of growing", function()
    page_cache.put("spec-page-cache|first", {}, 100)
    for i = 1, 20 do
      page_cache.put("spec-page-cache|fill" .. i, {}, 500 * 1024)
    end
    assert.is_nil(page_cache.get("spec-page-cache|first"))
    assert.is_table(page_cache.get("spec-page-cache|fill20"))
  end)
end)
