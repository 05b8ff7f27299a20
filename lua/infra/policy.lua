--- The operator's policy (config/policy.lua) merged over safe defaults and checked
-- when it loads, so a broken edit fails the reload and the old code keeps serving.
local M = {}

local DEFAULTS = {
  registration = "open",
  trash_retention_days = 30,
  quota_bytes = false,
  operators = {},
  password_min_length = 8,
  password_max_length = 1024,
  login_throttle = {
    ip = { free_failures = 20, window_seconds = 900, max_delay_seconds = 60 },
    account_ip = { free_failures = 5, window_seconds = 900, max_delay_seconds = 60 },
    account = { free_failures = 50, window_seconds = 3600, max_delay_seconds = 30 },
  },
}

local COMMON_PASSWORDS = {
  ["password"] = true, ["password1"] = true, ["12345678"] = true, ["123456789"] = true,
  ["1234567890"] = true, ["qwertyuiop"] = true, ["qwerty123"] = true, ["11111111"] = true,
  ["iloveyou"] = true, ["sunshine"] = true, ["princess"] = true, ["football"] = true,
  ["baseball"] = true, ["welcome1"] = true, ["abc12345"] = true, ["passw0rd"] = true,
  ["letmein1"] = true, ["trustno1"] = true, ["00000000"] = true, ["87654321"] = true,
}

-- crypto.hash_password refuses longer passwords.
local MAX_PASSWORD_BYTES = 4096

local function check_rule(name, rule)
  if type(rule) ~= "table" then
    error("policy.login_throttle." .. name .. " must be a table", 0)
  end
  for _, field in ipairs({ "free_failures", "window_seconds", "max_delay_seconds" }) do
    if math.type(rule[field]) ~= "integer" or rule[field] < 0 then
      error("policy.login_throttle." .. name .. "." .. field .. " must be a non-negative integer", 0)
    end
  end
end

--- Load and validate the policy (raises with a clear message when it is wrong).
local function load()
  local ok, operator = pcall(require, "config.policy")
  if not ok then
    error("config/policy.lua failed to load: " .. tostring(operator), 0)
  end
  if type(operator) ~= "table" then
    error("config/policy.lua must return a table", 0)
  end
  local policy = {}
  for key, value in pairs(DEFAULTS) do
    policy[key] = value
  end
  for key, value in pairs(operator) do
    if DEFAULTS[key] == nil and type(value) ~= "function" then
      error("config/policy.lua: unknown setting '" .. tostring(key) .. "'", 0)
    end
    policy[key] = value
  end
  if policy.registration ~= "open" and policy.registration ~= "closed" then
    error("policy.registration must be \"open\" or \"closed\"", 0)
  end
  if type(policy.operators) ~= "table" then
    error("policy.operators must be a list of email addresses", 0)
  end
  for _, email in ipairs(policy.operators) do
    if type(email) ~= "string" then
      error("policy.operators must be a list of email addresses", 0)
    end
  end
  if math.type(policy.trash_retention_days) ~= "integer" or policy.trash_retention_days < 1 then
    error("policy.trash_retention_days must be a positive integer", 0)
  end
  local quota = policy.quota_bytes
  if quota ~= false and type(quota) ~= "function" and (math.type(quota) ~= "integer" or quota < 0) then
    error("policy.quota_bytes must be false, a byte count, or a function", 0)
  end
  local min, max = policy.password_min_length, policy.password_max_length
  if math.type(max) ~= "integer" or max < 1 or max > MAX_PASSWORD_BYTES then
    error("policy.password_max_length must be an integer from 1 to " .. MAX_PASSWORD_BYTES, 0)
  end
  if math.type(min) ~= "integer" or min < 1 or min > max then
    error("policy.password_min_length must be an integer from 1 to password_max_length", 0)
  end
  -- Counters left out keep their defaults: the login service needs all three.
  if type(policy.login_throttle) ~= "table" then
    error("policy.login_throttle must be a table", 0)
  end
  local throttle = {}
  for name, rule in pairs(DEFAULTS.login_throttle) do
    throttle[name] = rule
  end
  for name, rule in pairs(policy.login_throttle) do
    if DEFAULTS.login_throttle[name] == nil then
      error("policy.login_throttle: unknown counter '" .. tostring(name) .. "'", 0)
    end
    check_rule(name, rule)
    throttle[name] = rule
  end
  policy.login_throttle = throttle
  return policy
end

local policy = load()

--- Whether a new account may be created for `email`.
function M.registration_open(email)
  if type(policy.check_registration) == "function" then
    return policy.check_registration(email) == true
  end
  return policy.registration == "open"
end

--- Why a password is not acceptable, or nil when it is.
-- Length rules follow ASVS: at least 8, long passphrases allowed, no composition rules.
function M.password_problem(password, email)
  local length = utf8.len(password) or #password
  if length < policy.password_min_length then
    return "must be at least " .. policy.password_min_length .. " characters long"
  end
  if #password > policy.password_max_length then
    return "must be at most " .. policy.password_max_length .. " bytes long"
  end
  local lower = password:lower()
  if COMMON_PASSWORDS[lower] or lower == email then
    return "is too easy to guess"
  end
  if type(policy.check_password) == "function" then
    return policy.check_password(password, email)
  end
  return nil
end

--- The login throttling rules by counter kind (ip, account_ip, account).
function M.login_throttle()
  return policy.login_throttle
end

--- Why an upload is refused, or nil when it may go ahead. Operators refine this
-- with check_upload(user, { filename, content_type, size_bytes }) in the policy.
function M.upload_problem(user, upload)
  if type(policy.check_upload) == "function" then
    return policy.check_upload(user, upload)
  end
  return nil
end

--- The user's storage quota in bytes, or nil when unlimited. The policy sets it with
-- quota_bytes = N, or a function quota_bytes(user) -> N | false.
function M.quota_bytes(user)
  local quota = policy.quota_bytes
  if type(quota) == "function" then
    quota = quota(user)
  end
  if math.type(quota) == "integer" and quota >= 0 then
    return quota
  end
  return nil
end

--- Days a trashed asset is kept before it is deleted for good.
function M.trash_retention_days()
  return policy.trash_retention_days
end

--- Whether a user may see operator views (job statistics): their email is listed in
-- the policy's `operators`.
function M.is_operator(user)
  for _, email in ipairs(policy.operators) do
    if email:lower() == user.email then
      return true
    end
  end
  return false
end

return M
