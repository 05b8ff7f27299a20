--- The application: the route table, and handle(req), which every API request goes
-- through: routing, CORS, authentication, input validation, then the route's handler.
local config = require("core.config")
local json = require("core.json")
local log = require("core.log")
local errors = require("domain.errors")
local http = require("api.http")
local openapi = require("api.openapi")
local respond = require("api.respond")
local router = require("api.router")
local schema = require("api.schema")
local auth_service = require("services.auth")
local jobs = require("services.jobs")
local schedule = require("services.schedule")

local M = {}

local ROUTE_MODULES = { "api.health", "api.v1.auth", "api.v1.uploads", "api.v1.assets",
  "api.v1.albums", "api.v1.tags", "api.v1.shares", "api.v1.jobs" }

local routes = {}
for _, name in ipairs(ROUTE_MODULES) do
  for _, route in ipairs(require(name)) do
    if route.params then
      route.params_schema = schema.object(route.params, {})
    end
    routes[#routes + 1] = route
  end
end

local compiled = router.compile(routes)
local openapi_json = json.encode(openapi.document(routes, {
  title = "itcloud API",
  version = "1",
  description = "Photos and videos, self-hosted.",
}))

local NO_QUERY = schema.object({})

--- The routes, for tools and specs.
M.routes = routes

local function preflight(req)
  local cors = http.cors_headers(req)
  if not cors then
    return respond.error(errors.forbidden("origin_not_allowed", "origin not allowed"))
  end
  cors["Access-Control-Allow-Methods"] = "GET, POST, PUT, PATCH, DELETE"
  cors["Access-Control-Allow-Headers"] = "Authorization, Content-Type, X-Requested-With,"
    .. " X-Share-Session"
  cors["Access-Control-Max-Age"] = "600"
  return respond.empty(204, cors)
end

-- Authenticates per the route's `auth`; returns an error response on failure.
local function authenticate(route, req)
  if route.auth == "user" then
    local token = http.bearer_token(req)
    if not token then
      return respond.error(errors.unauthorized("authentication required"))
    end
    local user, err = auth_service.authenticate(token)
    if not user then
      return respond.error(err)
    end
    req.user = user
  elseif route.auth == "refresh_cookie" and not http.csrf_ok(req) then
    return respond.error(errors.forbidden("csrf_failed",
      "this call needs an allowed Origin and the X-Requested-With header"))
  end
  return nil
end

-- Decodes and validates the body and query; fills req.input, req.args and req.cleared
-- (the body's fields sent as null: a nullable field cleans to nil either way).
local function validate_input(route, req)
  if route.body then
    local media_type = (req.headers["content-type"] or ""):lower():match("^([^;]*)")
    if media_type:match("^%s*(.-)%s*$") ~= "application/json" then
      return respond.error(errors.new("unsupported_media_type", "send application/json"))
    end
    local decoded, err = json.decode(req.body or "")
    if decoded == nil then
      log.debug("invalid json body", { mod = "app", err = err })
      return respond.error(errors.new("invalid_json", "the body is not valid JSON"))
    end
    local input, verr = schema.validate(route.body, decoded, { null = json.null })
    if verr then
      return respond.error(errors.validation(verr.field, verr.message))
    end
    req.input = input
    req.cleared = {}
    if type(decoded) == "table" then
      for name, value in pairs(decoded) do
        if rawequal(value, json.null) then
          req.cleared[name] = true
        end
      end
    end
  elseif req.body and #req.body > 0 then
    return respond.error(errors.new("bad_request", "this call takes no body"))
  end
  local args, qerr = schema.validate(route.query or NO_QUERY, req.query,
    { from_query = true })
  if qerr then
    return respond.error(errors.validation(qerr.field, qerr.message))
  end
  req.args = args or {}
  return nil
end

-- Routes, authenticates, validates and runs the handler.
local function route_request(req)
  if req.path == "/api/v1/openapi.json" and (req.method == "GET" or req.method == "HEAD") then
    return 200, openapi_json, { ["Content-Type"] = "application/json", ["Cache-Control"] = "no-cache" }
  end
  if req.method == "OPTIONS" then
    return preflight(req)
  end
  local route, params, allowed = router.match(compiled, req.method, req.path)
  if not route then
    if params == "method_not_allowed" then
      return respond.error(errors.new("method_not_allowed", "method not allowed"),
        { Allow = allowed })
    end
    return respond.error(errors.not_found("route"))
  end
  -- a malformed id is as unknown as someone else's: 404, not 400
  if route.params_schema and not schema.validate(route.params_schema, params, {}) then
    return respond.error(errors.not_found("resource"))
  end
  req.params = params
  local status, body, headers = authenticate(route, req)
  if not status then
    status, body, headers = validate_input(route, req)
  end
  if not status then
    status, body, headers = route.handler(req)
  end
  return status, body, headers
end

--- Serve one request.
-- @param req { method, path, headers, query, body?, remote_addr, request_id, ctx }
-- @return status, body, headers
function M.handle(req)
  local status, body, headers = route_request(req)
  local cors = req.method ~= "OPTIONS" and http.cors_headers(req)
  if cors then
    for name, value in pairs(cors) do
      headers[name] = value
    end
  end
  return status, body, headers
end

--- Run one due job, called in a loop by `itcloud worker` (one job per call, so the
-- worker's wall-clock limit applies to each job), after offering the current period's
-- periodic jobs (housekeeping, the integrity scrub).
-- @return 1 when a job ran, 0 when the queue is idle
function M.work()
  schedule.offer_due()
  return jobs.run_due(1)
end

--- Extend the lease of the job this worker process is running, called by its heartbeat
-- thread (a VM of its own) every third of JOB_LEASE_SECONDS while the job's thread may
-- be busy in C (a decoder, ffmpeg, storage).
-- @return 1 when a lease was renewed, 0 otherwise
function M.renew_lease()
  return jobs.renew_lease() and 1 or 0
end

-- Longest single wait for a wake-up: the worker checks for a stop or reload in between.
local WAKE_WAIT_SECONDS = 1

--- Wait for a wake-up (Redis) for at most a second, or the poll interval when shorter;
-- called in a loop by an idle `itcloud worker` until its poll interval has passed.
-- @return 2 when woken, 1 after waiting, 0 when there is nothing to wait on (no Redis,
--   or Redis down): the worker sleeps instead
function M.wait_for_work()
  local waited = jobs.wait_for_work(math.min(WAKE_WAIT_SECONDS, config.job_poll_interval_ms / 1000))
  return waited == "woken" and 2 or waited == "waited" and 1 or 0
end

return M
