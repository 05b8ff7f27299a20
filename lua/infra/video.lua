--- Videos through ffprobe and ffmpeg, run by core.process with time limits: what a
-- video is (duration, size, codec, creation time, location) and one frame as a JPEG.
local json = require("core.json")
local process = require("core.process")

local M = {}

local PROBE_TIMEOUT_MS = 30000
local POSTER_TIMEOUT_MS = 60000

-- Data streams known to carry GPS tracks itcloud does not decode (GoPro telemetry,
-- Google's camera motion metadata): their video's location cannot be said to be absent.
local GPS_TRACK_TAGS = { gpmd = true, camm = true }

-- One ISO 6709 coordinate: sign, then degrees (`int_digits` digits), degrees and minutes,
-- or degrees, minutes and seconds, the last with an optional fraction.
local function iso6709_part(sign, whole, fraction, int_digits)
  local degrees, rest = tonumber(whole:sub(1, int_digits)), whole:sub(int_digits + 1)
  local value
  if #rest == 0 then
    value = tonumber(whole .. fraction)
  elseif #rest == 2 then
    value = degrees + tonumber(rest .. fraction) / 60
  elseif #rest == 4 then
    value = degrees + tonumber(rest:sub(1, 2)) / 60 + tonumber(rest:sub(3) .. fraction) / 3600
  end
  return value and (sign == "-" and -value or value)
end

--- The latitude and longitude of an ISO 6709 point ("+48.8583+002.2945+035.000/",
-- "+4851.498+00217.670/"), or nil when the text is not one on Earth.
function M.iso6709(text)
  local lat_sign, lat_whole, lat_fraction, lon_sign, lon_whole, lon_fraction =
    text:match("^%s*([+-])(%d+)(%.?%d*)([+-])(%d+)(%.?%d*)")
  if not lat_sign or lat_fraction == "." or lon_fraction == "." then
    return nil
  end
  local lat = iso6709_part(lat_sign, lat_whole, lat_fraction, 2)
  local lon = iso6709_part(lon_sign, lon_whole, lon_fraction, 3)
  if not lat or not lon or math.abs(lat) > 90 or math.abs(lon) > 180 then
    return nil
  end
  return lat, lon
end

-- Whether a metadata key names a position ("location", "location-eng",
-- "com.apple.quicktime.location.ISO6709", any GPS key), or a place ("...location.name");
-- not the accuracy Apple records beside one.
local function is_location_key(key)
  key = key:lower()
  return (key:find("location", 1, true) or key:find("iso6709", 1, true) or key:find("gps", 1, true))
    and not key:find("accuracy", 1, true)
end

-- The position in a video's container and stream tags: { read, latitude?, longitude? }.
-- `read` is false when a position is there but cannot be understood, so the video
-- counts as located.
local function location_of(info)
  local found = { read = true }
  local function scan(tags)
    if type(tags) ~= "table" then
      return
    end
    for key, value in pairs(tags) do
      if type(key) == "string" and is_location_key(key) then
        local lat, lon
        if type(value) == "string" then
          lat, lon = M.iso6709(value)
        end
        if lat then
          found.latitude, found.longitude = found.latitude or lat, found.longitude or lon
        else
          found.read = false
        end
      end
    end
  end
  scan(type(info.format) == "table" and info.format.tags)
  for _, stream in ipairs(info.streams) do
    if type(stream) == "table" then
      scan(stream.tags)
      if GPS_TRACK_TAGS[stream.codec_tag_string] then
        found.read = false
      end
    end
  end
  return found
end

--- Duration, dimensions, codec, creation time and location of a video file or URL.
-- location_read is false when the file holds a position that could not be understood
-- (an unknown notation, a GPS track): it must then be treated as located.
-- @return { duration_ms, width, height, codec, created_at?, gps_latitude?,
--   gps_longitude?, location_read } | nil, err
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
      local location = location_of(info)
      return {
        duration_ms = math.floor((tonumber(format.duration) or 0) * 1000),
        width = math.tointeger(stream.width),
        height = math.tointeger(stream.height),
        codec = type(stream.codec_name) == "string" and stream.codec_name or nil,
        created_at = type(tags.creation_time) == "string" and tags.creation_time or nil,
        gps_latitude = location.latitude,
        gps_longitude = location.longitude,
        location_read = location.read,
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
