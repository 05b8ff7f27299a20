--- bench/posters.lua -- the itcloud side of bench/posters: runs the media job
-- (services.media.process: ffprobe, ffmpeg's frame about a second in, then the thumbnail,
-- preview and placeholder from that frame, stored, and the row updated) on each video given,
-- RUNS times, against the migrated database and local store of DATA_DIR.
--
--   bin/itcloud run bench/posters.lua RUNS LABEL=FILE...
--
-- Prints one line per video: "poster label=... ms=t1,t2,... width=... height=...".

for name, module in pairs(core) do      -- require("core.x") as the server's sandbox answers it
  package.preload["core." .. name] = function()
    return module
  end
end

local db = require("core.db")
local time = require("core.time")
local assets_repo = require("repositories.assets")
local users_repo = require("repositories.users")
local clock = require("infra.clock")
local ids = require("infra.ids")
local storage = require("infra.storage")
local storage_keys = require("domain.storage_keys")
local media = require("services.media")

local RUNS = math.tointeger(tonumber(arg[1] or ""))
assert(RUNS and RUNS >= 1 and arg[2], "usage: bench/posters.lua RUNS LABEL=FILE...")

local owner = { id = ids.uuid(), email = "posters-" .. ids.uuid() .. "@bench.example.com",
  password_hash = "-", created_at = clock.iso() }
assert(users_repo.insert(owner))

-- A ready video asset whose original is a copy of `path` in the local store.
local function stored_video(path)
  local f = assert(io.open(path, "rb"))
  local bytes = f:read("a")
  f:close()
  local now = clock.iso()
  local asset = { id = ids.uuid(), owner_id = owner.id, type = "video", original_filename = "clip.mp4",
    content_type = "video/mp4", size_bytes = #bytes, sha256 = core.crypto.sha256_hex(bytes),
    sort_at = now, created_at = now }
  asset.storage_key_original = storage_keys.original(owner.id, asset.id, now, ".mp4")
  asset.staging_key = storage_keys.staging(owner.id, asset.id)
  asset.upload_expires_at = now
  assert(assets_repo.insert(asset))
  assert(db.exec("UPDATE assets SET status = 'ready' WHERE id = ?", asset.id))
  local target = storage.local_path(asset.storage_key_original)
  assert(os.execute("mkdir -p '" .. target:match("^(.*)/") .. "'"))
  local out = assert(io.open(target, "wb"))
  out:write(bytes)
  out:close()
  return asset
end

for i = 2, #arg do
  local label, path = arg[i]:match("^([^=]+)=(.+)$")
  local asset = stored_video(path)
  local times = {}
  for r = 1, RUNS do
    local t0 = time.monotonic_ms()
    assert(media.process({ asset_id = asset.id, owner_id = owner.id }))
    times[r] = time.monotonic_ms() - t0
  end
  local row = assets_repo.find_owned(asset.id, owner.id)
  assert(row.media_status == "ready" and row.storage_key_poster, "no poster for " .. label)
  print(string.format("poster label=%s ms=%s width=%d height=%d", label, table.concat(times, ","),
    row.width, row.height))
end
