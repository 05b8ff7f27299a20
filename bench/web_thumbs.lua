--- bench/web_thumbs.lua -- after bench/seed_library.lua: gives every asset of the seeded
-- database a real thumbnail file under DATA_DIR/media (a copy of one small JPEG) and
-- marks its media ready, so the web app's grid can paint it. The seed's placeholders are
-- random bytes, not BlurHash: they are cleared (the grid paints a neutral colour).
--
--   DATA_DIR=... bin/itcloud run bench/web_thumbs.lua THUMB.jpg
-- Prints one line: "thumbs=N".
local db = core.db
local source = assert(io.open(arg[1], "rb"))
local bytes = source:read("a")
source:close()
local media = os.getenv("DATA_DIR") .. "/media/"

local rows = assert(db.query("SELECT storage_key_thumb AS key FROM assets WHERE storage_key_thumb IS NOT NULL"))
local made = {}
for _, row in ipairs(rows) do
  local dir = (media .. row.key):match("^(.*)/[^/]*$")
  if not made[dir] then
    assert(os.execute("mkdir -p '" .. dir .. "'"))
    made[dir] = true
  end
  local out = assert(io.open(media .. row.key, "wb"))
  out:write(bytes)
  out:close()
end
assert(db.exec("UPDATE assets SET media_status = 'ready', placeholder = NULL"))
print("thumbs=" .. #rows)
