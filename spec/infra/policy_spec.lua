-- infra.policy loads config/policy.lua when it is required; each case loads a fresh
-- copy over a stand-in operator policy.
local function load_policy(operator)
  local saved_operator, saved_policy = package.loaded["config.policy"], package.loaded["infra.policy"]
  package.loaded["config.policy"] = operator
  package.loaded["infra.policy"] = nil
  local ok, policy = pcall(require, "infra.policy")
  package.loaded["config.policy"] = saved_operator
  package.loaded["infra.policy"] = saved_policy
  if not ok then
    return nil, policy
  end
  return policy
end

local function refuses(operator, message)
  local policy, err = load_policy(operator)
  assert.is_nil(policy)
  assert.matches(message, err, 1, true)
end

describe("infra.policy", function()
  describe("the shipped config/policy.lua", function()
    local policy = require("infra.policy")

    it("loads, with registration open", function()
      assert.is_true(policy.registration_open("anyone@example.com"))
    end)

    it("has all three login counters with integer rules", function()
      local rules = policy.login_throttle()
      for _, kind in ipairs({ "ip", "account_ip", "account" }) do
        assert.is_table(rules[kind], kind)
        for _, field in ipairs({ "free_failures", "window_seconds", "max_delay_seconds" }) do
          assert.equal("integer", math.type(rules[kind][field]), kind .. "." .. field)
        end
      end
    end)
  end)

  describe("password_problem", function()
    local policy = assert(load_policy({}))

    it("accepts 8 characters and long passphrases", function()
      assert.is_nil(policy.password_problem("abcdefgh", "a@example.com"))
      assert.is_nil(policy.password_problem(string.rep("correct horse ", 70), "a@example.com"))
    end)

    it("refuses fewer than 8 characters", function()
      assert.equal("must be at least 8 characters long", policy.password_problem("abcdefg", "a@x.io"))
      assert.equal("must be at least 8 characters long", policy.password_problem("", "a@x.io"))
    end)

    it("counts UTF-8 characters, not bytes, for the minimum", function()
      local seven = string.rep("\xc3\xa9", 7)     -- 7 characters, 14 bytes
      assert.equal("must be at least 8 characters long", policy.password_problem(seven, "a@x.io"))
      assert.is_nil(policy.password_problem(string.rep("\xc3\xa9", 8), "a@x.io"))
    end)

    it("counts bytes for invalid UTF-8", function()
      assert.is_nil(policy.password_problem(string.rep("\xff", 8), "a@x.io"))
      assert.is_not_nil(policy.password_problem(string.rep("\xff", 7), "a@x.io"))
    end)

    it("refuses more than 1024 bytes", function()
      assert.is_nil(policy.password_problem(string.rep("x", 1024), "a@x.io"))
      assert.equal("must be at most 1024 bytes long",
        policy.password_problem(string.rep("x", 1025), "a@x.io"))
      assert.equal("must be at most 1024 bytes long",
        policy.password_problem(string.rep("\xc3\xa9", 600), "a@x.io"))
    end)

    it("refuses common passwords in any case, and the email itself", function()
      assert.equal("is too easy to guess", policy.password_problem("password", "a@x.io"))
      assert.equal("is too easy to guess", policy.password_problem("PassWord1", "a@x.io"))
      assert.equal("is too easy to guess", policy.password_problem("12345678", "a@x.io"))
      assert.equal("is too easy to guess", policy.password_problem("Alice@Example.com",
        "alice@example.com"))
    end)
  end)

  describe("operator settings", function()
    it("closes registration", function()
      local policy = assert(load_policy({ registration = "closed" }))
      assert.is_false(policy.registration_open("a@example.com"))
    end)

    it("uses check_registration when given, and only a true answer opens", function()
      local policy = assert(load_policy({
        check_registration = function(email)
          if email:match("@example%.com$") then
            return true
          end
          return "yes"   -- truthy but not true: still closed
        end,
      }))
      assert.is_true(policy.registration_open("a@example.com"))
      assert.is_false(policy.registration_open("a@other.com"))
    end)

    it("uses check_password after the built-in rules", function()
      local calls = 0
      local policy = assert(load_policy({
        password_min_length = 10,
        check_password = function(password, email)
          calls = calls + 1
          if password:find(email:match("^[^@]+"), 1, true) then
            return "must not contain your name"
          end
          return nil
        end,
      }))
      assert.equal("must be at least 10 characters long", policy.password_problem("short", "bob@x.io"))
      assert.equal(0, calls)
      assert.equal("must not contain your name", policy.password_problem("bob-is-great", "bob@x.io"))
      assert.is_nil(policy.password_problem("tango-is-great", "bob@x.io"))
    end)

    it("overrides one login counter and keeps the defaults of the others", function()
      local policy = assert(load_policy({
        login_throttle = { ip = { free_failures = 1, window_seconds = 60, max_delay_seconds = 5 } },
      }))
      local rules = policy.login_throttle()
      assert.same({ free_failures = 1, window_seconds = 60, max_delay_seconds = 5 }, rules.ip)
      assert.is_table(rules.account_ip)
      assert.is_table(rules.account)
      assert.equal(5, rules.account_ip.free_failures)
    end)

    it("refuses an unknown setting", function()
      refuses({ registation = "open" }, "config/policy.lua: unknown setting 'registation'")
    end)

    it("refuses a registration mode other than open or closed", function()
      refuses({ registration = "invite" }, 'policy.registration must be "open" or "closed"')
    end)

    it("refuses throttle rules that are not non-negative integers", function()
      refuses({ login_throttle = { ip = { free_failures = -1, window_seconds = 1, max_delay_seconds = 1 } } },
        "policy.login_throttle.ip.free_failures must be a non-negative integer")
      refuses({ login_throttle = { account = { free_failures = 1, window_seconds = 1.5,
        max_delay_seconds = 1 } } }, "policy.login_throttle.account.window_seconds")
      refuses({ login_throttle = { ip = { free_failures = 1, window_seconds = 1 } } },
        "policy.login_throttle.ip.max_delay_seconds")
    end)

    it("refuses a malformed login_throttle table or an unknown counter", function()
      refuses({ login_throttle = "strict" }, "policy.login_throttle must be a table")
      refuses({ login_throttle = { ip = 5 } }, "policy.login_throttle.ip must be a table")
      refuses({ login_throttle = { device = { free_failures = 1, window_seconds = 1,
        max_delay_seconds = 1 } } }, "policy.login_throttle: unknown counter 'device'")
    end)

    it("refuses password lengths that are not sensible integers", function()
      refuses({ password_min_length = "8" }, "policy.password_min_length must be an integer")
      refuses({ password_min_length = 0 }, "policy.password_min_length must be an integer")
      refuses({ password_max_length = 4097 }, "policy.password_max_length must be an integer")
      refuses({ password_min_length = 20, password_max_length = 10 },
        "policy.password_min_length must be an integer")
    end)

    it("refuses a policy file that is not a table or does not load", function()
      refuses("open", "config/policy.lua must return a table")
      local saved = package.loaded["config.policy"]
      package.loaded["config.policy"] = nil
      package.preload["config.policy"] = function() error("syntax oops") end
      local saved_policy = package.loaded["infra.policy"]
      package.loaded["infra.policy"] = nil
      local ok, err = pcall(require, "infra.policy")
      package.preload["config.policy"] = nil
      package.loaded["config.policy"] = saved
      package.loaded["infra.policy"] = saved_policy
      assert.is_false(ok)
      assert.matches("config/policy.lua failed to load", err, 1, true)
    end)
  end)

  describe("shares", function()
    local user = { id = "u1", email = "someone@example.com" }

    it("allows shares without expiry, password or download limits by default", function()
      local policy = assert(load_policy({}))
      assert.is_true(policy.shares_allowed(user))
      assert.is_nil(policy.share_max_expiry_days(user))
      assert.is_false(policy.share_password_required(user))
      assert.is_true(policy.share_downloads_allowed(user))
      for _, kind in ipairs({ "share", "ip" }) do
        assert.equal("integer", math.type(policy.share_throttle()[kind].free_failures))
      end
    end)

    it("takes values, or functions of the user", function()
      local policy = assert(load_policy({ shares_allowed = function(u) return u.id == "u1" end,
        share_max_expiry_days = 30, share_password_required = true,
        share_downloads_allowed = false }))
      assert.is_true(policy.shares_allowed(user))
      assert.is_false(policy.shares_allowed({ id = "u2" }))
      assert.equal(30, policy.share_max_expiry_days(user))
      assert.is_true(policy.share_password_required(user))
      assert.is_false(policy.share_downloads_allowed(user))
    end)

    it("takes a function's wrong answer as the strict rule", function()
      local policy = assert(load_policy({ shares_allowed = function() return "yes" end,
        share_max_expiry_days = function() return -3 end,
        share_password_required = function() return nil end,
        share_downloads_allowed = function() return 1 end }))
      assert.is_false(policy.shares_allowed(user))
      assert.equal(1, policy.share_max_expiry_days(user))
      assert.is_true(policy.share_password_required(user))
      assert.is_false(policy.share_downloads_allowed(user))
    end)

    it("refuses wrong values and unknown throttle counters", function()
      refuses({ shares_allowed = "yes" }, "policy.shares_allowed must be true or false")
      refuses({ share_max_expiry_days = 0 }, "policy.share_max_expiry_days must be false or a number of days")
      refuses({ share_max_expiry_days = 1.5 }, "policy.share_max_expiry_days")
      refuses({ share_throttle = { nope = {} } }, "policy.share_throttle: unknown counter 'nope'")
      refuses({ share_throttle = { ip = { free_failures = -1, window_seconds = 1, max_delay_seconds = 1 } } },
        "policy.share_throttle.ip.free_failures must be a non-negative integer")
    end)

    it("forgets idle counters only after the longest window of any of them", function()
      local policy = assert(load_policy({ share_throttle = {
        share = { free_failures = 1, window_seconds = 99999, max_delay_seconds = 1 } } }))
      assert.equal(99999, policy.longest_throttle_window())
    end)
  end)
end)
