local schema = require("api.schema")
local openapi = require("api.openapi")

local INFO = { title = "itcloud", version = "1.0.0" }

local function routes()
  return {
    {
      method = "POST",
      path = "/api/v1/auth/login",
      auth = "none",
      summary = "Log in",
      tag = "auth",
      body = schema.object({
        email = schema.string({ format = "email", max = 254 }),
        password = schema.string({ min = 1, max = 1024 }),
      }, { required = { "email", "password" } }),
      responses = {
        [200] = {
          description = "Logged in",
          schema = schema.object({ access_token = schema.string() }, {
            required = { "access_token" },
          }),
        },
      },
      handler = function() end,
    },
    {
      method = "POST",
      path = "/api/v1/auth/refresh",
      auth = "refresh_cookie",
      summary = "Rotate the refresh token",
      tag = "auth",
      responses = { [200] = { description = "New tokens" } },
    },
    {
      method = "GET",
      path = "/api/v1/assets/{asset_id}",
      auth = "user",
      summary = "Get an asset",
      tag = "assets",
      responses = { [200] = { description = "The asset" }, [404] = { description = "Not found" } },
    },
    {
      method = "DELETE",
      path = "/api/v1/assets/{asset_id}",
      auth = "user",
      responses = { [204] = { description = "Deleted" } },
    },
    {
      method = "GET",
      path = "/api/v1/albums/{album_id}/assets",
      auth = "user",
      query = schema.object({
        limit = schema.integer({ min = 1, max = 100, description = "page size" }),
        cursor = schema.string({ max = 512 }),
      }, { required = { "limit" } }),
      responses = { [200] = { description = "A page" } },
    },
  }
end

local function find_param(op, name, location)
  for _, p in ipairs(op.parameters or {}) do
    if p.name == name and p["in"] == location then
      return p
    end
  end
  return nil
end

local function broken(change)
  local route = {
    method = "GET",
    path = "/api/v1/x",
    auth = "user",
    responses = { [200] = { description = "ok" } },
  }
  for key, value in pairs(change) do
    route[key] = value
  end
  return function() openapi.document({ route }, INFO) end
end

describe("api.openapi", function()
  local doc

  before_each(function()
    doc = openapi.document(routes(), INFO)
  end)

  it("produces an OpenAPI 3.1.0 document with info", function()
    assert.are.equal("3.1.0", doc.openapi)
    assert.are.same({ title = "itcloud", version = "1.0.0" }, doc.info)
    local with_text = openapi.document({}, {
      title = "t", version = "v", description = "d", summary = "s", contact = {},
    })
    assert.are.same({ title = "t", version = "v", description = "d", summary = "s" },
      with_text.info)
  end)

  it("groups operations by path under lower-case methods", function()
    local item = doc.paths["/api/v1/assets/{asset_id}"]
    assert.is_table(item.get)
    assert.is_table(item.delete)
    assert.is_table(doc.paths["/api/v1/auth/login"].post)
  end)

  it("derives operationIds from method and path", function()
    assert.are.equal("post_api_v1_auth_login", doc.paths["/api/v1/auth/login"].post.operationId)
    assert.are.equal("get_api_v1_assets__asset_id_",
      doc.paths["/api/v1/assets/{asset_id}"].get.operationId)
    assert.are.equal("patch_a_b_c_d", openapi.operation_id("PATCH", "/a-b.c~d"))
  end)

  it("copies summary and tag", function()
    local op = doc.paths["/api/v1/auth/login"].post
    assert.are.equal("Log in", op.summary)
    assert.are.same({ "auth" }, op.tags)
    local untagged = doc.paths["/api/v1/assets/{asset_id}"].delete
    assert.is_nil(untagged.tags)
    assert.is_nil(untagged.summary)
  end)

  it("declares path parameters as required strings", function()
    local op = doc.paths["/api/v1/albums/{album_id}/assets"].get
    assert.are.same({
      name = "album_id",
      ["in"] = "path",
      required = true,
      schema = { type = "string" },
    }, find_param(op, "album_id", "path"))
  end)

  it("declares query parameters from the query object", function()
    local op = doc.paths["/api/v1/albums/{album_id}/assets"].get
    assert.are.same({
      name = "limit",
      ["in"] = "query",
      required = true,
      description = "page size",
      schema = { type = "integer", minimum = 1, maximum = 100, description = "page size" },
    }, find_param(op, "limit", "query"))
    assert.are.same({
      name = "cursor",
      ["in"] = "query",
      required = false,
      schema = { type = "string", maxLength = 512 },
    }, find_param(op, "cursor", "query"))
    assert.are.equal(3, #op.parameters)
  end)

  it("omits parameters when there are none", function()
    assert.is_nil(doc.paths["/api/v1/auth/login"].post.parameters)
  end)

  it("describes the body as a required JSON request body", function()
    local body = doc.paths["/api/v1/auth/login"].post.requestBody
    assert.is_true(body.required)
    local s = body.content["application/json"].schema
    assert.are.equal("object", s.type)
    assert.is_false(s.additionalProperties)
    assert.are.same({ "email", "password" }, s.required)
    assert.are.same({ type = "string", format = "email", maxLength = 254 }, s.properties.email)
    assert.is_nil(doc.paths["/api/v1/assets/{asset_id}"].get.requestBody)
  end)

  it("lists responses by status string, plus the shared error response", function()
    local responses = doc.paths["/api/v1/assets/{asset_id}"].get.responses
    assert.are.same({ description = "The asset" }, responses["200"])
    assert.are.same({ description = "Not found" }, responses["404"])
    assert.is_nil(responses[200])
    assert.are.same({
      description = "Error",
      content = { ["application/json"] = { schema = { ["$ref"] = "#/components/schemas/Error" } } },
    }, responses.default)
    local login = doc.paths["/api/v1/auth/login"].post.responses["200"]
    assert.are.same({ "access_token" }, login.content["application/json"].schema.required)
  end)

  it("defines the Error schema", function()
    local error_schema = doc.components.schemas.Error
    assert.are.same({ "error" }, error_schema.required)
    assert.are.same({ "code", "message" }, error_schema.properties.error.required)
    assert.are.same({ type = "string" }, error_schema.properties.error.properties.code)
    assert.are.same({ type = "string" }, error_schema.properties.error.properties.message)
  end)

  it("defines the bearer and refresh cookie security schemes", function()
    assert.are.same({ type = "http", scheme = "bearer", bearerFormat = "JWT" },
      doc.components.securitySchemes.bearer)
    assert.are.same({ type = "apiKey", ["in"] = "cookie", name = "itcloud_refresh" },
      doc.components.securitySchemes.refreshCookie)
  end)

  it("maps auth to security requirements", function()
    local paths = doc.paths
    assert.are.same({ { bearer = { "user" } } }, paths["/api/v1/assets/{asset_id}"].get.security)
    assert.are.same({ { refreshCookie = { "refresh" } } },
      paths["/api/v1/auth/refresh"].post.security)
    assert.is_nil(doc.paths["/api/v1/auth/login"].post.security)
    assert.is_nil(doc.security)
  end)

  it("maps auth share to an optional X-Share-Session header", function()
    local share_doc = openapi.document({ {
      method = "GET",
      path = "/api/v1/shares/{token}",
      auth = "share",
      responses = { [200] = { description = "What the share covers" } },
    } }, INFO)
    assert.same({ { shareSession = { "share" } }, {} }, share_doc.paths["/api/v1/shares/{token}"].get.security)
    assert.same({ type = "apiKey", ["in"] = "header", name = "X-Share-Session",
      description = "From POST /api/v1/shares/{token}/unlock; only shares with a password" },
      share_doc.components.securitySchemes.shareSession)
    local encoded = core.json.encode(share_doc.paths["/api/v1/shares/{token}"].get.security)
    assert.equal('[{"shareSession":["share"]},{}]', encoded)
  end)

  it("does not leak route internals such as handlers", function()
    local op = doc.paths["/api/v1/auth/login"].post
    assert.is_nil(op.handler)
    assert.is_nil(op.auth)
  end)

  it("encodes with cjson into the same structure", function()
    local cjson = require("cjson")
    local decoded = cjson.decode(cjson.encode(doc))
    assert.are.equal("3.1.0", decoded.openapi)
    local get = decoded.paths["/api/v1/assets/{asset_id}"].get
    assert.are.same({ { bearer = { "user" } } }, get.security)
    assert.are.equal("The asset", get.responses["200"].description)
    local body = decoded.paths["/api/v1/auth/login"].post.requestBody
    assert.are.same({ "email", "password" }, body.content["application/json"].schema.required)
    -- Every list in the document is non-empty, so none turns into {}.
    local encoded = cjson.encode(doc)
    assert.is_nil(string.find(encoded, '"required":{}', 1, true))
    assert.is_nil(string.find(encoded, '"security":{}', 1, true))
    assert.is_nil(string.find(encoded, '"parameters":{}', 1, true))
  end)

  it("accepts an empty route list", function()
    local empty = openapi.document({}, INFO)
    assert.are.same({}, empty.paths)
    assert.is_table(empty.components.schemas.Error)
  end)

  describe("raises on malformed declarations", function()
    it("bad arguments", function()
      assert.has_error(function() openapi.document(nil, INFO) end,
        "openapi.document: routes must be a list")
      assert.has_error(function() openapi.document({}, { title = "t" }) end,
        "openapi.document: info needs a title and a version")
    end)

    it("bad method, path or auth", function()
      assert.has_error(broken({ method = "FETCH" }),
        "openapi.document: route 1 (FETCH /api/v1/x): unknown method")
      assert.has_error(broken({ method = "get" }))
      assert.has_error(broken({ path = "api/v1/x" }))
      assert.has_error(broken({ path = "/api/v1/{a-b}" }))
      assert.has_error(broken({ path = "/api/v1/{a}/{a}" }))
      assert.has_error(broken({ path = "/api/v1/{a" }))
      assert.has_error(broken({ auth = "admin" }),
        'openapi.document: route 1 (GET /api/v1/x): unknown auth "admin"')
      assert.has_error(broken({ auth = false }))
    end)

    it("bad schemas", function()
      assert.has_error(broken({ body = { type = "object" } }))
      assert.has_error(broken({ query = schema.string() }),
        "openapi.document: route 1 (GET /api/v1/x): query must be a non-nullable schema.object")
      assert.has_error(broken({ query = schema.object({}, { nullable = true }) }))
      assert.has_error(broken({ responses = { [200] = { description = "ok", schema = {} } } }))
    end)

    it("bad responses", function()
      assert.has_error(broken({ responses = false }))
      assert.has_error(broken({ responses = { [200] = {} } }))
      assert.has_error(broken({ responses = { ["200"] = { description = "ok" } } }))
      assert.has_error(broken({ responses = { [99] = { description = "ok" } } }))
    end)

    it("duplicate operations", function()
      local twice = { routes()[3], routes()[3] }
      assert.has_error(function() openapi.document(twice, INFO) end)
      local clash = {
        { method = "GET", path = "/a-b", auth = "none", responses = {} },
        { method = "GET", path = "/a_b", auth = "none", responses = {} },
      }
      assert.has_error(function() openapi.document(clash, INFO) end,
        'openapi.document: route 2 (GET /a_b): operationId "get_a_b" is already used')
    end)
  end)
end)
