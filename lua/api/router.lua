--- Route matching: paths like /api/v1/assets/{asset_id} are split into segments
-- once; static paths are found by a table lookup, templated ones by a scan.
local M = {}

local function split(path)
  local segments = {}
  for segment in path:gmatch("[^/]+") do
    segments[#segments + 1] = segment
  end
  return segments
end

--- Compile a list of route declarations; raises on duplicates or bad paths.
-- @return router (for M.match)
function M.compile(routes)
  local router = { static = {}, templated = {} }
  local seen = {}
  for index, route in ipairs(routes) do
    if type(route.method) ~= "string" or type(route.path) ~= "string"
      or type(route.handler) ~= "function" then
      error("route " .. index .. " needs method, path and handler", 0)
    end
    local key = route.method .. " " .. route.path
    if seen[key] then
      error("route declared twice: " .. key, 0)
    end
    seen[key] = true
    if route.path:find("[{}]") then
      local segments, params = split(route.path), {}
      for i, segment in ipairs(segments) do
        params[i] = segment:match("^{([%w_]+)}$")
        if not params[i] and segment:find("[{}]") then
          error("bad path template: " .. route.path, 0)
        end
      end
      router.templated[#router.templated + 1] = { route = route, segments = segments, params = params }
    else
      router.static[route.path] = router.static[route.path] or {}
      router.static[route.path][route.method] = route
    end
  end
  return router
end

local function allowed_methods(methods)
  local list = {}
  for method in pairs(methods) do
    list[#list + 1] = method
  end
  table.sort(list)
  return table.concat(list, ", ")
end

--- Find the route for a request.
-- @return route, params | nil, "not_found" | nil, "method_not_allowed", "GET, POST"
function M.match(router, method, path)
  local methods = router.static[path]
  if methods then
    local route = methods[method] or (method == "HEAD" and methods.GET)
    if route then
      return route, {}
    end
  end
  local segments = split(path)
  local allowed = {}
  for name in pairs(methods or {}) do
    allowed[name] = true
  end
  for _, candidate in ipairs(router.templated) do
    local pattern = candidate.segments
    if #pattern == #segments then
      local params, matched = {}, true
      for i = 1, #pattern do
        local name = candidate.params[i]
        if name then
          params[name] = segments[i]
        elseif pattern[i] ~= segments[i] then
          matched = false
          break
        end
      end
      if matched then
        local route_method = candidate.route.method
        if route_method == method or (method == "HEAD" and route_method == "GET") then
          return candidate.route, params
        end
        allowed[route_method] = true
      end
    end
  end
  if next(allowed) then
    return nil, "method_not_allowed", allowed_methods(allowed)
  end
  return nil, "not_found"
end

return M
