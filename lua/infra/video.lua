--- Videos through ffprobe and ffmpeg, run by core.process with time limits: what a
-- video is (duration, size, codec, creation time) and one frame as a JPEG.
local json = require("core.json")
local process = require("core.process")

local M = {}

local PROBE_TIMEOUT_MS = 30000
local POSTER_TIMEOUT_MS = 60000

--- Duration, dimensions, codec and creation time of a video file or URL.
-- @return { duration_ms, width, height, codec, created_at? } | nil, err
function M.probe(input)
  local result = process.run({ "ffprobe", "-v", "error", "-print_format", "json", "-show_format",
    "-show_streams", input }, { timeout_ms = PROBE_TIMEOUT_MS, max_output = 4 * 1024 * 1024 })
  if not result then
    return nil, "ffprobe could not run"
  end
  if result.timed_out then
    return nil, "ffprobe took too long"
  end
  local info = result.status == 0 and json.decode(result.stdout)
  if type(info) ~= "table" or type(info.streams) ~= "table" then
    return nil, "not a readable video: " .. result.stderr:sub(1, 200)
  end
  for _, stream in ipairs(info.streams) do
    if type(stream) == "table" and stream.codec_type == "video" then
      local format = type(info.format) == "table" and info.format or {}
      local tags = type(format.tags) == "table" and format.tags or {}
      return {
        duration_ms = math.floor((tonumber(format.duration) or 0) * 1000),
        width = math.tointeger(stream.width),
        height = math.tointeger(stream.height),
        codec = type(stream.codec_name) == "string" and stream.codec_name or nil,
        created_at = type(tags.creation_time) == "string" and tags.creation_time or nil,
      }
    end
  end
  return nil, "the file has no video stream"
end

--- One frame, `at_seconds` in, as JPEG bytes (ffmpeg turns it upright).
-- @return bytes | nil, err
function M.frame(input, at_seconds)
  local result = process.run({ "ffmpeg", "-v", "error", "-nostdin", "-ss", string.format("%.3f", at_seconds),
    "-i", input, "-frames:v", "1", "-f", "image2pipe", "-c:v", "mjpeg", "-q:v", "2", "-" },
    { timeout_ms = POSTER_TIMEOUT_MS, max_output = 64 * 1024 * 1024 })
  if not result then
    return nil, "ffmpeg could not run"
  end
  if result.timed_out then
    return nil, "ffmpeg took too long"
  end
  if result.status ~= 0 or #result.stdout == 0 then
    return nil, "no frame at " .. at_seconds .. " s: " .. result.stderr:sub(1, 200)
  end
  return result.stdout
end

return M
