-- infra.video against ffmpeg's own files: what ffprobe reports, and the location a
-- container's tags hold in ISO 6709.
local video = require("infra.video")

describe("infra.video", function()
  local dir

  setup(function()
    dir = os.tmpname()
    os.remove(dir)
    assert(os.execute("mkdir -p " .. dir))
  end)

  teardown(function()
    os.execute("rm -rf " .. dir)
  end)

  -- A one-second test clip at `name`, made by ffmpeg with extra arguments.
  local function clip(name, args)
    local path = dir .. "/" .. name
    assert(os.execute("ffmpeg -v error -y -f lavfi -i testsrc=duration=1:size=160x120:rate=10"
      .. " -pix_fmt yuv420p " .. (args or "") .. " " .. path))
    return path
  end

  it("reads ISO 6709 points in degrees, minutes and seconds, and refuses others", function()
    assert.same({ 48.8583, 2.2945 }, { video.iso6709("+48.8583+002.2945+035.000/") })
    assert.same({ -33.5, -70.25 }, { video.iso6709("-3330-07015/") })
    local lat, lon = video.iso6709("+485130.0+0021742.0/")
    assert.is_true(math.abs(lat - 48.8583) < 0.0001 and math.abs(lon - 2.295) < 0.0001)
    for _, bad in ipairs({ "", "48.8583,2.2945", "+95.0+002.0/", "+48.0+190.0/", "+4.+002.0/" }) do
      assert.is_nil(video.iso6709(bad), bad)
    end
  end)

  it("reads the location ffmpeg writes into MP4 and QuickTime files", function()
    local cases = {
      { "plain.mp4", "-metadata location=+48.8583+002.2945/" },
      { "tags.mp4", "-metadata location=+48.8583+002.2945/ -movflags use_metadata_tags" },
      { "plain.mov", "-metadata location=+48.8583+002.2945/" },
      { "apple.mov", "-metadata com.apple.quicktime.location.ISO6709=+48.8583+002.2945+035.000/"
        .. " -movflags use_metadata_tags" },
    }
    for _, case in ipairs(cases) do
      local facts = assert(video.probe(clip(case[1], case[2])))
      assert.same({ 48.8583, 2.2945, true },
        { facts.gps_latitude, facts.gps_longitude, facts.location_read }, case[1])
    end
  end)

  it("finds no location where none is, and distrusts one it cannot read", function()
    local none = assert(video.probe(clip("none.mp4")))
    assert.is_true(none.location_read)
    assert.is_nil(none.gps_latitude)
    local odd = assert(video.probe(clip("odd.mov", "-metadata location=somewhere")))
    assert.is_false(odd.location_read)
    assert.is_nil(odd.gps_latitude)
    local place = assert(video.probe(clip("place.mov", "-movflags use_metadata_tags"
      .. " -metadata com.apple.quicktime.location.name=Paris")))
    assert.is_false(place.location_read)
    -- the accuracy Apple writes beside a position is no position
    local accuracy = assert(video.probe(clip("accuracy.mov", "-movflags use_metadata_tags"
      .. " -metadata com.apple.quicktime.location.accuracy.horizontal=14.5")))
    assert.is_true(accuracy.location_read)
  end)
end)
