--- bench/thumbnails.lua -- the itcloud side of bench/thumbnails: thumbnails every image
-- named on the command line into OUT_DIR, in this one process: decode_file with fit=512 (a
-- JPEG decodes from the file straight to the smallest libjpeg-turbo scale whose longest side
-- is >= 512, its rows resampled into the 512 px box as they arrive; a PNG's rows too),
-- encode_jpeg(80), write the bytes.
--
--   bin/itcloud run bench/thumbnails.lua OUT_DIR FILE...
--
-- Writes OUT_DIR/<basename>.jpg per input; prints one line "thumbnails n=... seconds=...".

local image = core.image
local SIDE = 512
local QUALITY = 80

local out_dir = arg[1]
assert(out_dir and arg[2], "usage: bench/thumbnails.lua OUT_DIR FILE...")

local t0 = os.clock()
local n = 0
for i = 2, #arg do
  local path = arg[i]
  local thumb = assert(image.decode_file(path, { fit = SIDE }))
  local jpeg = assert(thumb:encode_jpeg(QUALITY))
  thumb:close()

  local name = path:match("([^/]+)$"):gsub("%.[^.]*$", "")
  local o = assert(io.open(out_dir .. "/" .. name .. ".jpg", "wb"))
  o:write(jpeg)
  o:close()
  n = n + 1
end
print(string.format("thumbnails n=%d seconds=%.3f", n, os.clock() - t0))
