--- Password hashing through core.crypto (argon2id, with a cap on concurrent hashes
-- so a login flood cannot exhaust memory).
local crypto = require("core.crypto")

local M = {}

--- Hash a password for storage.
-- @return PHC string | nil, err ("busy" when every hashing slot stayed taken)
function M.hash(password)
  return crypto.hash_password(password)
end

--- Check a password against a stored hash; with no hash, spends the same time and
-- answers false, so unknown accounts cannot be told apart by timing.
-- @return boolean | nil, err
function M.verify(stored_hash, password)
  if not stored_hash then
    return crypto.dummy_verify(password)
  end
  return crypto.verify_password(stored_hash, password)
end

--- Whether a stored hash was made with other parameters than today's.
function M.needs_rehash(stored_hash)
  return crypto.needs_rehash(stored_hash)
end

return M
