--- bench/seed_library.lua -- fills a migrated database with a large photo library for
-- bench/library: N_USERS users, the first of them (the "big user", who can log in)
-- owning BIG_USER_ASSETS assets, the other TOTAL - BIG_USER_ASSETS spread evenly over
-- the rest. Rows are written straight through core.db, 50,000 per transaction, with
-- one INSERT text (so one cached prepared statement).
--
--   DATABASE_URL=sqlite:/path/itcloud.db bin/itcloud migrate up
--   DATABASE_URL=sqlite:/path/itcloud.db bin/itcloud run bench/seed_library.lua 100 100000 1000000
--
-- Environment: SEED_EMAIL / SEED_PASSWORD (the big user's login, defaults below),
-- SEED_RANDOM (math.random seed, default 42: the same library shape every run).
-- Prints one line: "seeded users=... assets=... big_user=... seconds=...".

-- `itcloud run` gives the primitives as the global `core`; answer require("core.x") with
-- them, as the server's sandboxed require (and spec/run.lua) does, for infra.ids & co.
for name, module in pairs(core) do
  package.preload["core." .. name] = function()
    return module
  end
end

local crypto = require("core.crypto")
local db = require("core.db")
local time = require("core.time")
local ids = require("infra.ids")
local storage_keys = require("domain.storage_keys")

local N_USERS = math.tointeger(tonumber(arg[1] or "100"))
local BIG = math.tointeger(tonumber(arg[2] or "100000"))
local TOTAL = math.tointeger(tonumber(arg[3] or "1000000"))
if not N_USERS or not BIG or not TOTAL or N_USERS < 1 or BIG < 0 or TOTAL < BIG
  or (N_USERS == 1 and TOTAL ~= BIG) then
  io.stderr:write("usage: itcloud run bench/seed_library.lua N_USERS BIG_USER_ASSETS TOTAL\n")
  return 2
end
local EMAIL = os.getenv("SEED_EMAIL") or "big-user@bench.example.com"
local PASSWORD = os.getenv("SEED_PASSWORD") or "bench-password-0123456789"
local BATCH = 50000
local YEARS = 10

math.randomseed(math.tointeger(tonumber(os.getenv("SEED_RANDOM") or "42")) or 42)

local started = time.monotonic_ms()

local function check(ok, err)
  if not ok then
    error(err, 2)
  end
  return ok
end

-- Bigger page cache for the bulk load (this connection only): the sha256 and library
-- indexes take random inserts.
check(db.exec("PRAGMA cache_size = -262144"))

-- 1. users: the big one with a real argon2id hash, the others with a placeholder hash
-- (they never log in)
local now = time.unix()
local now_iso = time.iso8601(now)
local users = {}
local FAKE_HASH = "$argon2id$v=19$m=19456,t=2,p=1$YmVuY2hzZWVkc2FsdA$"
  .. "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
check(db.transaction(function()
  for u = 1, N_USERS do
    local id = ids.uuid()
    local email, hash
    if u == 1 then
      email, hash = EMAIL:lower(), check(crypto.hash_password(PASSWORD))
    else
      email, hash = string.format("user-%03d@bench.example.com", u), FAKE_HASH
    end
    local created = time.iso8601(now - YEARS * 365 * 86400 - 86400 * u)
    check(db.exec("INSERT INTO users (id, email, password_hash, is_active, token_epoch,"
      .. " created_at, updated_at) VALUES (?, ?, ?, 1, 0, ?, ?)", id, email, hash, created, created))
    users[u] = id
  end
  return true
end))

-- 2. how many assets each user gets
local counts = { BIG }
local rest, others = TOTAL - BIG, N_USERS - 1
for u = 2, N_USERS do
  counts[u] = rest // others + ((u - 1) <= rest % others and 1 or 0)
end

-- 3. the assets. A phone library: mostly JPEG and HEIC photos, some PNG screenshots,
-- a few videos; taken over the last YEARS years, uploaded up to a week later.
local KINDS = {
  -- weight, content type, extension, name pattern, type
  { 60, "image/jpeg", ".jpg", "IMG_%04d.JPG", "photo" },
  { 25, "image/heic", ".heic", "IMG_%04d.HEIC", "photo" },
  { 8, "image/png", ".png", "Screenshot_%04d.png", "photo" },
  { 5, "video/mp4", ".mp4", "VID_%04d.mp4", "video" },
  { 2, "video/quicktime", ".mov", "IMG_%04d.MOV", "video" },
}
local PICK = {}
for i, k in ipairs(KINDS) do
  for _ = 1, k[1] do
    PICK[#PICK + 1] = i
  end
end
local SIZES = { { 4032, 3024 }, { 3024, 4032 }, { 1170, 2532 }, { 1920, 1080 }, { 4000, 3000 } }

local INSERT = "INSERT INTO assets (id, owner_id, type, status, original_filename, content_type,"
  .. " size_bytes, sha256, width, height, duration_ms, captured_at, sort_at, created_at,"
  .. " updated_at, deleted_at, storage_key_original, storage_key_thumb, storage_key_preview,"
  .. " storage_key_poster, placeholder, staging_key, multipart_upload_id, upload_expires_at,"
  .. " failure_reason) VALUES (?, ?, ?, 'ready', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?, ?,"
  .. " ?, ?, ?, NULL, NULL, NULL, NULL)"

local random, format = math.random, string.format
local iso, sha256_hex, b64 = time.iso8601, crypto.sha256_hex, crypto.base64url_encode
local span_ms = YEARS * 365 * 86400 * 1000
local oldest_ms = (now - 7 * 86400) * 1000 - span_ms   -- the newest photo is a week old

local function insert_asset(owner, serial)
  local id = ids.uuid()
  local kind = KINDS[PICK[random(#PICK)]]
  local taken_ms = oldest_ms + random(0, span_ms)
  local uploaded_ms = taken_ms + random(0, 7 * 86400 * 1000)
  local taken, uploaded = iso(taken_ms / 1000), iso(uploaded_ms / 1000)
  -- one in ten files has no capture date: it sorts by its upload time
  local captured = random(10) > 1 and taken or nil
  local sort_at = captured or uploaded
  local size = SIZES[random(#SIZES)]
  local is_video = kind[5] == "video"
  local duration, bytes
  if is_video then
    duration = random(1000, 180000)
    bytes = duration * random(600, 1200)     -- ~5-10 Mbit/s
  else
    bytes = random(800000, 6000000)
  end
  local thumb = storage_keys.derivative("thumb", owner, id, uploaded)
  local preview = storage_keys.derivative("preview", owner, id, uploaded)
  local poster = is_video and storage_keys.derivative("poster", owner, id, uploaded) or nil
  check(db.exec(INSERT, id, owner, kind[5], format(kind[4], serial % 10000), kind[2], bytes,
    sha256_hex(id), size[1], size[2], duration, captured, sort_at, uploaded, uploaded,
    storage_keys.original(owner, id, uploaded, kind[3]), thumb, preview, poster,
    b64(crypto.random_bytes(21))))
end

-- One transaction per BATCH rows, whatever user they belong to.
local user, serial, done = 1, 1, 0
local function batch()
  local stop = math.min(TOTAL, done + BATCH)
  while done < stop do
    while serial > counts[user] do
      user, serial = user + 1, 1
    end
    insert_asset(users[user], serial)
    serial, done = serial + 1, done + 1
  end
  return true
end
while done < TOTAL do
  check(db.transaction(batch))
end

-- 4. fold the WAL into the database file, so the file can be copied on its own
check(db.query("PRAGMA wal_checkpoint(TRUNCATE)"))

local elapsed = (time.monotonic_ms() - started) / 1000
io.write(format("seeded users=%d assets=%d big_user=%s big_user_id=%s big_assets=%d seconds=%.1f\n",
  N_USERS, done, EMAIL:lower(), users[1], BIG, elapsed))
return 0
