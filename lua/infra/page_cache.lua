--- Listing pages already rendered in this VM, by a key that holds everything the page
-- depends on: the owner's library_version (kept by database triggers, so it changes
-- with any change to the owner's assets, albums or tags), the listing and the exact
-- query. A cached page is never stale, across threads and processes alike. A cache
-- safe to lose: cleared when full.
local M = {}

local MAX_BYTES = 8 * 1024 * 1024   -- per VM
local MAX_PAGE = 512 * 1024         -- larger pages are not kept

local pages, used = {}, 0

--- The page stored under `key`, or nil.
function M.get(key)
  return pages[key]
end

--- Keep `page` under `key`; `size` is about how many bytes it holds.
function M.put(key, page, size)
  size = size + #key
  if size > MAX_PAGE then
    return
  end
  if used + size > MAX_BYTES then
    pages, used = {}, 0
  end
  pages[key] = page
  used = used + size
end

return M
