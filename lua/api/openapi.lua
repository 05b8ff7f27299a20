--- Builds the OpenAPI 3.1.0 document served at /api/v1/openapi.json from
-- the same route declarations that validate requests, so the published
-- contract cannot drift from the code.
--
-- The result is plain Lua tables that core.json encodes as valid OpenAPI.
-- Plain empty tables encode as {} there, so the document avoids empty
-- arrays, which shapes three choices:
-- - Routes with auth = "none" have no `security` key. The document has no
--   root-level `security`, so that means no authentication.
-- - Security requirements name a role instead of an empty scope list:
--   { bearer = { "user" } } and { refreshCookie = { "refresh" } }. OpenAPI
--   3.1 allows role names for non-OAuth schemes.
-- - Empty `parameters`, `tags` and `required` lists are left out.
local http = require("api.http")
local schema = require("api.schema")

local M = {}

local format = string.format

local METHODS = {
  GET = true, PUT = true, POST = true, DELETE = true,
  OPTIONS = true, HEAD = true, PATCH = true,
}

local JSON = "application/json"

local ERROR_REF = "#/components/schemas/Error"

-- Every operation also answers errors in this shape (api/respond.lua).
-- The inner object stays open so respond.lua can add details such as the
-- failing field.
local function error_schema()
  return {
    type = "object",
    properties = {
      error = {
        type = "object",
        properties = {
          code = { type = "string" },
          message = { type = "string" },
        },
        required = { "code", "message" },
      },
    },
    required = { "error" },
    additionalProperties = false,
  }
end

local function security_schemes()
  return {
    bearer = { type = "http", scheme = "bearer", bearerFormat = "JWT" },
    refreshCookie = { type = "apiKey", ["in"] = "cookie", name = http.REFRESH_COOKIE },
    shareSession = { type = "apiKey", ["in"] = "header", name = "X-Share-Session",
      description = "From POST /api/v1/shares/{token}/unlock; only shares with a password" },
  }
end

-- auth -> security requirement list; "none" has none (see the module note).
local SECURITY = {
  none = function()
    return nil
  end,
  user = function()
    return { { bearer = { "user" } } }
  end,
  refresh_cookie = function()
    return { { refreshCookie = { "refresh" } } }
  end,
  -- the share token in the path; a share with a password also needs its session
  share = function()
    return { { shareSession = { "share" } }, {} }
  end,
}

--- The operationId of a route: lower-case method, then the path with every
-- character outside [A-Za-z0-9] replaced by "_".
-- @return string, e.g. "post_api_v1_auth_login"
function M.operation_id(method, path)
  return string.lower(method) .. (string.gsub(path, "[^A-Za-z0-9]", "_"))
end

-- Returns the list of {name} parameters in `path` | nil, problem.
local function path_params(path)
  local names, seen = {}, {}
  for name in string.gmatch(path, "{([^{}]*)}") do
    if not string.find(name, "^[A-Za-z_][A-Za-z0-9_]*$") then
      return nil, format("bad path parameter %q", name)
    end
    if seen[name] then
      return nil, format("path parameter %q appears twice", name)
    end
    seen[name] = true
    names[#names + 1] = name
  end
  if string.find((string.gsub(path, "{[^{}]*}", "")), "[{}]") then
    return nil, "unbalanced braces in path"
  end
  return names
end

-- Returns the parameter list (maybe empty) | nil, problem.
local function parameters(route)
  local params = {}
  local names, problem = path_params(route.path)
  if not names then
    return nil, problem
  end
  for _, name in ipairs(names) do
    params[#params + 1] = {
      name = name,
      ["in"] = "path",
      required = true,
      schema = { type = "string" },
    }
  end
  if route.query ~= nil then
    if not schema.is_schema(route.query) then
      return nil, "query is not a schema"
    end
    local query = schema.to_json_schema(route.query)
    if query.type ~= "object" then
      return nil, "query must be a non-nullable schema.object"
    end
    local required = {}
    for _, name in ipairs(query.required or {}) do
      required[name] = true
    end
    local query_names = {}
    for name in next, query.properties do
      query_names[#query_names + 1] = name
    end
    table.sort(query_names)
    for _, name in ipairs(query_names) do
      local field = query.properties[name]
      params[#params + 1] = {
        name = name,
        ["in"] = "query",
        required = required[name] == true,
        description = field.description,
        schema = field,
      }
    end
  end
  return params
end

-- Returns the responses object | nil, problem.
local function responses(route)
  if type(route.responses) ~= "table" then
    return nil, "responses must be a table"
  end
  local out = {}
  for status, response in next, route.responses do
    if math.type(status) ~= "integer" or status < 100 or status > 599 then
      return nil, format("bad response status %s", tostring(status))
    end
    if type(response) ~= "table" or type(response.description) ~= "string" then
      return nil, format("response %d needs a description", status)
    end
    local entry = { description = response.description }
    if response.schema ~= nil then
      if not schema.is_schema(response.schema) then
        return nil, format("response %d schema is not a schema", status)
      end
      entry.content = { [JSON] = { schema = schema.to_json_schema(response.schema) } }
    end
    -- String keys: integer keys would make cjson write a sparse array.
    out[tostring(status)] = entry
  end
  out.default = {
    description = "Error",
    content = { [JSON] = { schema = { ["$ref"] = ERROR_REF } } },
  }
  return out
end

-- Returns the Operation Object for `route` | nil, problem.
local function operation(route)
  local security = SECURITY[route.auth]
  if not security then
    return nil, format("unknown auth %q", tostring(route.auth))
  end
  if route.summary ~= nil and type(route.summary) ~= "string" then
    return nil, "summary must be a string"
  end
  if route.tag ~= nil and type(route.tag) ~= "string" then
    return nil, "tag must be a string"
  end
  local op = {
    operationId = M.operation_id(route.method, route.path),
    summary = route.summary,
    tags = route.tag and { route.tag } or nil,
    security = security(),
  }
  local params, problem = parameters(route)
  if not params then
    return nil, problem
  end
  if #params > 0 then
    op.parameters = params
  end
  if route.body ~= nil then
    if not schema.is_schema(route.body) then
      return nil, "body is not a schema"
    end
    op.requestBody = {
      required = true,
      content = { [JSON] = { schema = schema.to_json_schema(route.body) } },
    }
  end
  op.responses, problem = responses(route)
  if not op.responses then
    return nil, problem
  end
  return op
end

--- Build the OpenAPI 3.1.0 document for `routes`.
-- @param routes list of { method = "POST", path = "/api/v1/assets/{asset_id}",
--   auth = "none" | "user" | "refresh_cookie" | "share", summary = string|nil,
--   tag = string|nil, body = schema|nil, query = schema.object|nil,
--   responses = { [200] = { description = string, schema = schema|nil } } };
--   other keys (handlers) are ignored
-- @param info { title = string, version = string, description = string|nil,
--   summary = string|nil }
-- @return table ready for cjson.encode; raises on a malformed route, naming it
function M.document(routes, info)
  if type(routes) ~= "table" then
    error("openapi.document: routes must be a list", 2)
  end
  if type(info) ~= "table" or type(info.title) ~= "string"
      or type(info.version) ~= "string" then
    error("openapi.document: info needs a title and a version", 2)
  end
  local paths, operation_ids = {}, {}
  for i, route in ipairs(routes) do
    if type(route) ~= "table" or type(route.method) ~= "string"
        or type(route.path) ~= "string" then
      error(format("openapi.document: route %d needs a method and a path", i), 2)
    end
    local where = format("openapi.document: route %d (%s %s): ", i, route.method, route.path)
    if not METHODS[route.method] then
      error(where .. "unknown method", 2)
    end
    if string.sub(route.path, 1, 1) ~= "/" then
      error(where .. "path must start with /", 2)
    end
    local op, problem = operation(route)
    if not op then
      error(where .. problem, 2)
    end
    if operation_ids[op.operationId] then
      error(where .. format("operationId %q is already used", op.operationId), 2)
    end
    operation_ids[op.operationId] = true
    local item = paths[route.path] or {}
    paths[route.path] = item
    -- A repeated method+path would also repeat the operationId above.
    item[string.lower(route.method)] = op
  end
  return {
    openapi = "3.1.0",
    info = {
      title = info.title,
      version = info.version,
      summary = info.summary,
      description = info.description,
    },
    paths = paths,
    components = {
      schemas = { Error = error_schema() },
      securitySchemes = security_schemes(),
    },
  }
end

return M
