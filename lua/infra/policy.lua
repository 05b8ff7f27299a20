--- The operator's policy (config/policy.lua) merged over safe defaults and checked
-- when it loads, so a broken edit fails the reload and the old code keeps serving.
local M = {}

local DEFAULTS = {
  registration = "open",
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

local function check_rule(name, rule)
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
  for name, rule in pairs(policy.login_throttle) do
    check_rule(name, rule)
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

return M
