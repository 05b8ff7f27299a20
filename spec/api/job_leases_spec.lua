-- Lease renewal through `serve` and two supervised workers: a job that works for longer
-- than its lease keeps it, so the other worker never takes it over. The job is a video
-- whose original, on the local store, is swapped for a named pipe: ffprobe (a child of
-- the worker, run by core.process) blocks reading it until this spec writes the video
-- into the pipe, so the job lasts exactly as long as the spec needs.
local api = require("helpers.api")
local clock = require("infra.clock")
local jobs = require("services.jobs")
local library = require("helpers.library")
local server_helper = require("helpers.server")
local socket = require("socket")

if core.storage.backend() ~= "local" then
  pending("the job lease spec stalls a job on a named pipe in the local store")
  return
end

local LEASE_SECONDS = 5

describe("job leases", function()
  local server, account, clip_path

  setup(function()
    server = server_helper.start_with_workers({ env = { WORKER_PROCESSES = 2,
      JOB_LEASE_SECONDS = LEASE_SECONDS } })
    account = api.signup(server)
    clip_path = os.tmpname()
    -- one second, with its index first, so ffprobe and ffmpeg can read it from a pipe
    assert(os.execute("ffmpeg -v error -y -f lavfi -i testsrc=duration=1:size=320x240:rate=10"
      .. " -pix_fmt yuv420p -movflags +faststart -f mp4 " .. clip_path))
  end)

  teardown(function()
    server.stop()
    os.remove(clip_path)
  end)

  local function job_row(job_id)
    return core.db.query("SELECT state, attempts, lease_owner, lease_expires_at FROM jobs"
      .. " WHERE id = ?", job_id)[1]
  end

  -- polls `test(row)` for up to `seconds`, then gives the last row
  local function job_when(job_id, seconds, test)
    local row
    for _ = 1, seconds * 20 do
      row = job_row(job_id)
      if test(row) then
        break
      end
      socket.sleep(0.05)
    end
    return row
  end

  it("keeps the lease of a job busy in a child process for longer than the lease", function()
    local file = assert(io.open(clip_path, "rb"))
    local asset = library.upload(server, account, file:read("a"),
      { filename = "clip.mp4", content_type = "video/mp4" })
    file:close()
    local first = core.db.query("SELECT id FROM jobs WHERE payload LIKE ?",
      "%" .. asset.id .. "%")[1]
    assert.equal("done", job_when(first.id, 30, function(row) return row.state == "done" end).state)

    -- the original becomes a pipe nobody writes to yet, and the video is queued again
    local key = core.db.query("SELECT storage_key_original FROM assets WHERE id = ?", asset.id)[1]
    local pipe = server.data_dir .. "/media/" .. key.storage_key_original
    assert(os.remove(pipe))
    assert(os.execute("mkfifo " .. pipe))
    assert(jobs.enqueue("media.process", { asset_id = asset.id, owner_id = account.user.id }))
    local job_id = core.db.query("SELECT id FROM jobs WHERE payload LIKE ? AND state <> 'done'",
      "%" .. asset.id .. "%")[1].id

    -- a worker claims it, and keeps renewing its lease well past the first one's end
    local claimed = job_when(job_id, 30, function(row) return row.state == "running" end)
    assert.equal("running", claimed.state)
    local first_expiry = clock.parse(claimed.lease_expires_at)
    local held = job_when(job_id, 60, function(row)
      return row.state ~= "running" or row.lease_owner ~= claimed.lease_owner
        or (clock.now() > first_expiry + 2 and clock.parse(row.lease_expires_at) > first_expiry)
    end)

    -- the video arrives (before any verdict, so that no ffprobe is left waiting): written
    -- into the pipe for each program that opens it (ffprobe, then ffmpeg) until the job ends
    local done
    for _ = 1, 60 do
      os.execute("timeout 1 dd status=none if=" .. clip_path .. " of=" .. pipe)
      done = job_row(job_id)
      if done.state ~= "running" then
        break
      end
    end
    assert.same({ "running", 1, claimed.lease_owner },
      { held.state, held.attempts, held.lease_owner })
    assert.is_true(clock.parse(held.lease_expires_at) > first_expiry)
    assert.same({ "done", 1 }, { done.state, done.attempts })
    local shown = server.request("GET", "/api/v1/assets/" .. asset.id,
      { headers = api.bearer(account.token) }).json().asset
    assert.same({ "ready", 1000 }, { shown.thumb_status, math.tointeger(shown.duration_ms) })
  end)
end)
