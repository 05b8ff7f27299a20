local config = core.config

describe("core.config", function()
  it("is read-only: assigning raises, for new and existing keys", function()
    local port = config.port
    assert.has_error(function() config.port = 1 end, "core.config is read-only")
    assert.has_error(function() config.something_new = true end, "core.config is read-only")
    assert.equal(port, config.port)
    assert.is_nil(config.something_new)
  end)

  it("cannot be written with rawset either", function()
    local port = config.port
    assert.has_error(function() rawset(config, "port", 1) end)
    assert.has_error(function() rawset(config, "jwt_secret", "x") end)
    assert.equal(port, config.port)
    assert.is_nil(config.jwt_secret)
  end)

  it("cannot have its metatable read or replaced", function()
    assert.equal("locked", getmetatable(config))
    assert.has_error(function() setmetatable(config, nil) end)
    assert.has_error(function() config.port = 1 end)
  end)

  it("holds the environment it was started with", function()
    assert.equal(os.getenv("APP_ENV"), config.app_env)
    assert.equal(os.getenv("DATA_DIR"), config.data_dir)
    assert.equal(os.getenv("DATABASE_URL"), config.database_url)
    assert.equal(os.getenv("LOG_LEVEL"), config.log_level)
  end)

  it("types numbers as integers", function()
    for _, key in ipairs({ "port", "jwt_access_ttl_seconds", "jwt_refresh_ttl_seconds",
      "http_threads", "max_json_body_bytes", "max_connections", "max_connections_per_ip",
      "header_timeout_seconds", "body_timeout_seconds", "idle_timeout_seconds",
      "lua_memory_limit_bytes", "lua_instruction_limit", "argon2_max_concurrency",
      "shutdown_grace_seconds" }) do
      assert.equal("integer", math.type(config[key]), key)
    end
    assert.is_true(config.jwt_access_ttl_seconds >= 30)
    assert.is_true(config.jwt_refresh_ttl_seconds > config.jwt_access_ttl_seconds)
  end)

  it("types flags as booleans and the rest as strings", function()
    assert.is_boolean(config.auto_migrate)
    assert.is_boolean(config.cookie_secure)
    for _, key in ipairs({ "app_env", "host", "data_dir", "database_url", "jwt_issuer",
      "jwt_audience", "cors_origins", "log_level", "static_dir", "lua_dir", "config_dir",
      "migrations_dir", "trusted_proxies" }) do
      assert.is_string(config[key], key)
    end
  end)

  it("turns cookie_secure off outside prod unless set", function()
    if os.getenv("COOKIE_SECURE") == nil and config.app_env ~= "prod" then
      assert.is_false(config.cookie_secure)
    end
  end)

  it("answers nil for unknown keys", function()
    assert.is_nil(config.nonexistent_setting)
    assert.is_nil(config.PORT)
  end)

  it("exposes no secret", function()
    assert.is_nil(config.jwt_secret)
    assert.is_nil(config.secret)
    assert.is_nil(config.s3_secret_access_key)
    local secret = os.getenv("JWT_SECRET")
    -- no readable value holds the secret
    for _, key in ipairs({ "app_env", "host", "data_dir", "database_url", "jwt_issuer",
      "jwt_audience", "cors_origins", "log_level", "static_dir", "lua_dir", "config_dir",
      "migrations_dir", "trusted_proxies" }) do
      if secret and #secret > 0 then
        assert.is_nil(config[key]:find(secret, 1, true), key)
      end
    end
  end)

  it("cannot be iterated or read raw", function()
    assert.has_error(function() next(config) end)
    assert.has_error(function() rawget(config, "port") end)
  end)
end)
