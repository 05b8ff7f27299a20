--- Object storage through core.storage: the same calls for the local backend (files
-- under DATA_DIR/media, URLs signed for the core's /blobs endpoint) and for S3.
local storage = require("core.storage")

local M = {}

--- "local" or "s3".
function M.backend()
  return storage.backend()
end

--- Whether uploads can be split into parts (S3 multipart).
function M.supports_multipart()
  return storage.supports_multipart()
end

--- A URL the browser PUTs one whole file to; the type and length are signed.
-- @return url
function M.presign_put(key, content_type, size_bytes, ttl)
  return storage.presign_put(key, content_type, size_bytes, ttl)
end

--- A URL that downloads or streams an object.
-- @param opts { ttl, content_type, filename, disposition = "attachment" | "inline" }
-- @return url
function M.presign_get(key, opts)
  return storage.presign_get(key, opts)
end

--- Size and ETag of an object.
-- @return { size, etag } | nil when absent | nil, err
function M.head(key)
  return storage.head(key)
end

--- Up to `length` bytes from `offset`.
-- @return bytes | nil, err
function M.read(key, offset, length)
  return storage.read(key, offset, length)
end

--- The SHA-256 (hex) and size of a whole object, read in pieces (never all in memory).
-- @return hex, size | nil when absent | nil, err
function M.sha256(key)
  return storage.sha256(key)
end

--- Write a whole object from the server (thumbnails, previews, posters).
-- @return true | nil, err
function M.put(key, bytes, content_type)
  return storage.put(key, bytes, content_type)
end

--- The file holding an object on the local backend, or nil on S3.
function M.local_path(key)
  return storage.local_path(key)
end

--- Delete an object (absent is fine).
-- @return true | nil, err
function M.delete(key)
  return storage.delete(key)
end

--- Move an object to a new key (rename locally; copy then delete on S3).
-- @return true | nil, err
function M.move(from_key, to_key)
  return storage.move(from_key, to_key)
end

--- Start a multipart upload.
-- @return upload_id | nil, err
function M.multipart_create(key, content_type)
  return storage.multipart_create(key, content_type)
end

--- A URL the browser PUTs one part to.
-- @return url
function M.presign_part(key, upload_id, part_number, size_bytes, ttl)
  return storage.presign_part(key, upload_id, part_number, size_bytes, ttl)
end

--- The parts stored so far.
-- @return list of { part_number, etag, size } | nil, err
function M.list_parts(key, upload_id)
  return storage.list_parts(key, upload_id)
end

--- Assemble the parts into the object.
-- @param parts list of { part_number, etag }
-- @return true | nil, err
function M.multipart_complete(key, upload_id, parts)
  return storage.multipart_complete(key, upload_id, parts)
end

--- Abandon a multipart upload and its parts.
-- @return true | nil, err
function M.multipart_abort(key, upload_id)
  return storage.multipart_abort(key, upload_id)
end

return M
