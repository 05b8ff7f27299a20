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
  -- each a value, or a function(user) -> value
  shares_allowed = true,
  share_max_expiry_days = false,
  share_password_required = false,
  share_downloads_allowed = true,
  share_throttle = {
    share = { free_failures = 10, window_seconds = 900, max_delay_seconds = 60 },
    ip = { free_failures = 5, window_seconds = 900, max_delay_seconds = 60 },
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

local function check_rule(setting, name, rule)
  if type(rule) ~= "table" then
    error("policy." .. setting .. "." .. name .. " must be a table", 0)
  end
  for _, field in ipairs({ "free_failures", "window_seconds", "max_delay_seconds" }) do
    if math.type(rule[field]) ~= "integer" or rule[field] < 0 then
      error("policy." .. setting .. "." .. name .. "." .. field
        .. " must be a non-negative integer", 0)
    end
  end
end

-- The throttling rules of `setting` over their defaults: counters left out keep
-- theirs, since the services need every one.
local function throttle_rules(policy, setting)
  if type(policy[setting]) ~= "table" then
    error("policy." .. setting .. " must be a table", 0)
  end
  local rules = {}
  for name, rule in pairs(DEFAULTS[setting]) do
    rules[name] = rule
  end
  for name, rule in pairs(policy[setting]) do
    if DEFAULTS[setting][name] == nil then
      error("policy." .. setting .. ": unknown counter '" .. tostring(name) .. "'", 0)
    end
    check_rule(setting, name, rule)
    rules[name] = rule
  end
  return rules
end

-- Share settings are a value of `kind` or a function of the user giving one.
local SHARE_SETTINGS = {
  shares_allowed = "boolean",
  share_max_expiry_days = "days",
  share_password_required = "boolean",
  share_downloads_allowed = "boolean",
}

local function valid_share_value(kind, value)
  if kind == "boolean" then
    return type(value) == "boolean"
  end
  return value == false or (math.type(value) == "integer" and value >= 1)
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
  policy.login_throttle = throttle_rules(policy, "login_throttle")
  policy.share_throttle = throttle_rules(policy, "share_throttle")
  for name, kind in pairs(SHARE_SETTINGS) do
    local value = policy[name]
    if type(value) ~= "function" and not valid_share_value(kind, value) then
      error("policy." .. name .. " must be " .. (kind == "boolean" and "true or false"
        or "false or a number of days") .. ", or a function of the user", 0)
    end
  end
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

--- The share-password throttling rules by counter kind (share, ip).
function M.share_throttle()
  return policy.share_throttle
end

--- The longest throttling window of any counter, in seconds (idle counters older than
-- this are forgotten).
function M.longest_throttle_window()
  local longest = 0
  for _, rules in ipairs({ policy.login_throttle, policy.share_throttle }) do
    for _, rule in pairs(rules) do
      longest = math.max(longest, rule.window_seconds)
    end
  end
  return longest
end

-- A share setting for `user`: the value, or what its function answers (checked, so a
-- broken function cannot loosen the rule: a wrong answer counts as the strict one).
local function share_setting(name, user, strict)
  local value = policy[name]
  if type(value) == "function" then
    value = value(user)
    if not valid_share_value(SHARE_SETTINGS[name], value) then
      return strict
    end
  end
  return value
end

--- Whether `user` may make public share links.
function M.shares_allowed(user)
  return share_setting("shares_allowed", user, false)
end

--- The longest a share of `user` may last, in days, or nil when links may never expire.
function M.share_max_expiry_days(user)
  return share_setting("share_max_expiry_days", user, 1) or nil
end

--- Whether every share of `user` needs a password.
function M.share_password_required(user)
  return share_setting("share_password_required", user, true)
end

--- Whether `user` may let a share's visitors download originals.
function M.share_downloads_allowed(user)
  return share_setting("share_downloads_allowed", user, false)
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
