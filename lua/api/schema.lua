--- Input validation DSL for route declarations.
-- A route declares its body and query with these constructors; the same
-- values validate requests (schema.validate) and describe the API
-- (schema.to_json_schema, used by api/openapi.lua).
--
-- Validation is strict because JSON arrives through lua-cjson 2.1.0
-- (SECURITY.md section 1): every number is a float, `null` is a truthy
-- sentinel, strings are not UTF-8 checked and may hold NUL bytes, and
-- `[]` and `{}` both decode to an empty table.
--
-- Quirks, all on purpose:
-- - Integers must lie within +-(2^53 - 1). 2^53 itself is refused: it is
--   what cjson makes of 9007199254740993, so it may not be what was sent.
-- - Array positions in error paths are 0-based, as the client wrote them in
--   JSON: "items[0].name" is the first item.
-- - An unknown field whose name is not 1-64 of [A-Za-z0-9_-] is reported
--   as "?" so untrusted bytes never reach the error response or the logs.
-- - The root value's error path is "".
-- - `pattern` is a Lua pattern matched against bytes, not characters. It
--   runs on client input, so keep it simple and give the string a `max`.
local M = {}

local find, match, sub, format = string.find, string.match, string.sub, string.format
local concat, sort = table.concat, table.sort
local math_type, tointeger, floor, huge = math.type, math.tointeger, math.floor, math.huge

-- Largest integer a float (and so a cjson number) holds exactly, along
-- with its neighbours: the JavaScript Number.MAX_SAFE_INTEGER.
local MAX_SAFE_INTEGER = 9007199254740991

-- Marks tables made by the constructors below.
local SCHEMA_MT = { __name = "api.schema" }

local FORMATS = { email = true, ["date-time"] = true, uuid = true }

local COMMON_OPTIONS = { nullable = true, description = true }

-- Options a constructor accepts, besides COMMON_OPTIONS.
local OPTIONS = {
  string = { min = true, max = true, pattern = true, enum = true, format = true },
  integer = { min = true, max = true },
  number = { min = true, max = true },
  boolean = {},
  array = { min_items = true, max_items = true },
  object = { required = true },
}

-- Constructor helpers. They raise at level 3: the caller of the constructor.

local function check_options(kind, opts)
  if opts == nil then
    return {}
  end
  if type(opts) ~= "table" then
    error(format("schema.%s: options must be a table", kind), 3)
  end
  for key in next, opts do
    if not (OPTIONS[kind][key] or COMMON_OPTIONS[key]) then
      local hint = ""
      if key == "optional" then
        hint = " (fields are optional unless listed in the object's required list)"
      end
      error(format("schema.%s: unknown option %q%s", kind, tostring(key), hint), 3)
    end
  end
  if opts.nullable ~= nil and type(opts.nullable) ~= "boolean" then
    error(format("schema.%s: nullable must be a boolean", kind), 3)
  end
  if opts.description ~= nil and type(opts.description) ~= "string" then
    error(format("schema.%s: description must be a string", kind), 3)
  end
  return opts
end

local function new_node(kind, opts)
  return setmetatable({
    kind = kind,
    nullable = opts.nullable == true,
    description = opts.description,
  }, SCHEMA_MT)
end

-- Returns the integer value of an optional bound, raising if it is not one.
local function integer_bound(kind, name, value, minimum)
  if value == nil then
    return nil
  end
  local n = type(value) == "number" and tointeger(value)
  if not n or (minimum and n < minimum) then
    error(format("schema.%s: %s must be an integer%s", kind, name,
      minimum and format(" >= %d", minimum) or ""), 3)
  end
  return n
end

local function check_order(kind, low_name, low, high_name, high)
  if low and high and low > high then
    error(format("schema.%s: %s is greater than %s", kind, low_name, high_name), 3)
  end
end

-- Adds the ^ and $ anchors a pattern lacks. A final "$" is an anchor unless
-- an odd number of "%" escapes it.
local function anchor(pattern)
  if sub(pattern, 1, 1) ~= "^" then
    pattern = "^" .. pattern
  end
  local escapes = match(pattern, "(%%*)%$$")
  if escapes == nil or #escapes % 2 == 1 then
    pattern = pattern .. "$"
  end
  return pattern
end

--- Declare a string.
-- @param opts table|nil: min, max (length in UTF-8 characters), pattern (a
--   Lua pattern; ^ and $ are added when missing), enum (list of strings),
--   format ("email" | "date-time" | "uuid"), nullable, description
-- @return schema; raises on malformed options
function M.string(opts)
  opts = check_options("string", opts)
  local node = new_node("string", opts)
  node.min = integer_bound("string", "min", opts.min, 0)
  node.max = integer_bound("string", "max", opts.max, 0)
  check_order("string", "min", node.min, "max", node.max)
  if opts.pattern ~= nil then
    if type(opts.pattern) ~= "string" or opts.pattern == "" then
      error("schema.string: pattern must be a non-empty string", 2)
    end
    node.source_pattern = opts.pattern
    node.pattern = anchor(opts.pattern)
    -- Malformed patterns fail here, at declaration, not on a request.
    local ok, err = pcall(find, "", node.pattern)
    if not ok then
      error("schema.string: bad pattern: " .. tostring(err), 2)
    end
  end
  if opts.enum ~= nil then
    if type(opts.enum) ~= "table" or #opts.enum == 0 then
      error("schema.string: enum must be a non-empty list of strings", 2)
    end
    node.enum, node.enum_set = {}, {}
    for i, value in ipairs(opts.enum) do
      if type(value) ~= "string" then
        error("schema.string: enum must be a non-empty list of strings", 2)
      end
      node.enum[i] = value
      node.enum_set[value] = true
    end
  end
  if opts.format ~= nil then
    if not FORMATS[opts.format] then
      error(format("schema.string: unknown format %q", tostring(opts.format)), 2)
    end
    node.format = opts.format
  end
  return node
end

--- Declare an integer (a Lua integer, or an integral float as cjson gives).
-- @param opts table|nil: min, max, nullable, description
-- @return schema; raises on malformed options
function M.integer(opts)
  opts = check_options("integer", opts)
  local node = new_node("integer", opts)
  node.min = integer_bound("integer", "min", opts.min)
  node.max = integer_bound("integer", "max", opts.max)
  check_order("integer", "min", node.min, "max", node.max)
  return node
end

--- Declare a finite number.
-- @param opts table|nil: min, max, nullable, description
-- @return schema; raises on malformed options
function M.number(opts)
  opts = check_options("number", opts)
  local node = new_node("number", opts)
  for _, name in ipairs({ "min", "max" }) do
    local value = opts[name]
    if value ~= nil and (type(value) ~= "number" or value ~= value
        or value == huge or value == -huge) then
      error(format("schema.number: %s must be a finite number", name), 2)
    end
    node[name] = value
  end
  check_order("number", "min", node.min, "max", node.max)
  return node
end

--- Declare a boolean.
-- @param opts table|nil: nullable, description
-- @return schema; raises on malformed options
function M.boolean(opts)
  opts = check_options("boolean", opts)
  return new_node("boolean", opts)
end

--- Declare an array whose items all match `item_schema`.
-- Items may not be nullable: a nil in the cleaned list would leave a hole.
-- @param opts table|nil: min_items, max_items, nullable, description
-- @return schema; raises on malformed arguments
function M.array(item_schema, opts)
  if getmetatable(item_schema) ~= SCHEMA_MT then
    error("schema.array: item schema expected", 2)
  end
  if item_schema.nullable then
    error("schema.array: items cannot be nullable", 2)
  end
  opts = check_options("array", opts)
  local node = new_node("array", opts)
  node.items = item_schema
  node.min_items = integer_bound("array", "min_items", opts.min_items, 0)
  node.max_items = integer_bound("array", "max_items", opts.max_items, 0)
  check_order("array", "min_items", node.min_items, "max_items", node.max_items)
  return node
end

--- Declare an object with exactly the fields in `fields` (name -> schema).
-- Fields are optional unless named in opts.required; any other field in
-- the input is refused.
-- @param opts table|nil: required (list of field names), nullable, description
-- @return schema; raises on malformed arguments
function M.object(fields, opts)
  if type(fields) ~= "table" or getmetatable(fields) == SCHEMA_MT then
    error("schema.object: fields must be a table of name -> schema", 2)
  end
  opts = check_options("object", opts)
  local node = new_node("object", opts)
  node.fields, node.names = {}, {}
  for name, field in next, fields do
    if type(name) ~= "string" or name == "" then
      error("schema.object: field names must be non-empty strings", 2)
    end
    if getmetatable(field) ~= SCHEMA_MT then
      error(format("schema.object: field %q is not a schema", name), 2)
    end
    node.fields[name] = field
    node.names[#node.names + 1] = name
  end
  -- A fixed order makes the first reported error the same on every run.
  sort(node.names)
  node.required, node.required_set = {}, {}
  if opts.required ~= nil then
    if type(opts.required) ~= "table" then
      error("schema.object: required must be a list of field names", 2)
    end
    for _, name in ipairs(opts.required) do
      if node.fields[name] == nil then
        error(format("schema.object: required field %q is not declared", tostring(name)), 2)
      end
      if not node.required_set[name] then
        node.required[#node.required + 1] = name
        node.required_set[name] = true
      end
    end
  end
  return node
end

--- Tell whether `value` was made by one of this module's constructors.
-- @return boolean
function M.is_schema(value)
  return getmetatable(value) == SCHEMA_MT
end

-- Validation. Checkers return true, cleaned | false, err.

local function fail(path, message)
  return false, { field = path, message = message }
end

local function join(path, name)
  if path == "" then
    return name
  end
  return path .. "." .. name
end

-- Field names from the client are echoed only when plainly harmless.
local function safe_name(name)
  if #name <= 64 and find(name, "^[A-Za-z0-9_%-]+$") then
    return name
  end
  return "?"
end

-- Number of items if `t` is a sequence 1..n (an empty table counts), else nil.
local function array_length(t)
  local count, max = 0, 0
  for key in next, t do
    if math_type(key) ~= "integer" or key < 1 then
      return nil
    end
    count = count + 1
    if key > max then
      max = key
    end
  end
  if max ~= count then
    return nil
  end
  return count
end

local function is_leap_year(year)
  return year % 4 == 0 and (year % 100 ~= 0 or year % 400 == 0)
end

local DAYS_IN_MONTH = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 }

-- RFC 3339 date-time with an upper-case "T" and "Z", seconds 00-59 (no
-- leap second) and at most 9 fraction digits.
local function is_date_time(s)
  local y, mo, d, h, mi, sec, rest =
    match(s, "^(%d%d%d%d)%-(%d%d)%-(%d%d)T(%d%d):(%d%d):(%d%d)(.*)$")
  if not y then
    return false
  end
  y, mo, d = tonumber(y), tonumber(mo), tonumber(d)
  h, mi, sec = tonumber(h), tonumber(mi), tonumber(sec)
  if mo < 1 or mo > 12 or h > 23 or mi > 59 or sec > 59 then
    return false
  end
  local days = DAYS_IN_MONTH[mo]
  if mo == 2 and is_leap_year(y) then
    days = 29
  end
  if d < 1 or d > days then
    return false
  end
  local fraction, zone = match(rest, "^(%.?%d*)(.*)$")
  if fraction ~= "" and not match(fraction, "^%.%d%d?%d?%d?%d?%d?%d?%d?%d?$") then
    return false
  end
  if zone == "Z" then
    return true
  end
  local zh, zm = match(zone, "^[+-](%d%d):(%d%d)$")
  return zh ~= nil and tonumber(zh) <= 23 and tonumber(zm) <= 59
end

-- A deliberately plain ASCII address: local@domain.tld, no quoting, no
-- comments, no IP literals.
local function is_email(s)
  if #s > 254 then
    return false
  end
  local local_part, domain = match(s, "^([^@]+)@([^@]+)$")
  if not local_part or #local_part > 64 then
    return false
  end
  if not find(local_part, "^[A-Za-z0-9!#$%%&'*+/=?^_`{|}~.%-]+$")
      or sub(local_part, 1, 1) == "." or sub(local_part, -1) == "."
      or find(local_part, "..", 1, true) then
    return false
  end
  local labels = 0
  for label in string.gmatch(domain .. ".", "([^.]*)%.") do
    if #label < 1 or #label > 63 or not find(label, "^[A-Za-z0-9%-]+$")
        or sub(label, 1, 1) == "-" or sub(label, -1) == "-" then
      return false
    end
    labels = labels + 1
  end
  return labels >= 2 and find(domain, "[A-Za-z]") ~= nil
end

-- 8-4-4-4-12 hex digits, either case; the value is returned as sent.
local UUID_PATTERN = "^%x%x%x%x%x%x%x%x%-%x%x%x%x%-%x%x%x%x%-%x%x%x%x%-"
  .. string.rep("%x", 12) .. "$"

local function is_uuid(s)
  return find(s, UUID_PATTERN) ~= nil
end

local FORMAT_CHECKS = {
  email = { is_email, "must be a valid email address" },
  ["date-time"] = { is_date_time, "must be an RFC 3339 date-time" },
  uuid = { is_uuid, "must be a UUID" },
}

-- Query-string numbers: optional "-", digits without leading zeros, and
-- for numbers an optional fraction. No "+", exponent, spaces, hex, inf, nan.
local function parse_query_integer(s)
  local digits = match(s, "^%-?(%d+)$")
  if not digits or (#digits > 1 and sub(digits, 1, 1) == "0") then
    return nil
  end
  return tonumber(s)
end

local function parse_query_number(s)
  local digits, fraction = match(s, "^%-?(%d+)(%.?%d*)$")
  if not digits or (#digits > 1 and sub(digits, 1, 1) == "0") or fraction == "." then
    return nil
  end
  return tonumber(s)
end

local check

local CHECKERS = {}

function CHECKERS.string(s, value, path)
  if type(value) ~= "string" then
    return fail(path, "must be a string")
  end
  if find(value, "\0", 1, true) then
    return fail(path, "must not contain NUL bytes")
  end
  -- Strict in 5.4: refuses overlong forms, surrogates and > U+10FFFF.
  local length = utf8.len(value)
  if not length then
    return fail(path, "must be valid UTF-8")
  end
  if s.min and length < s.min then
    return fail(path, format("must be at least %d characters long", s.min))
  end
  if s.max and length > s.max then
    return fail(path, format("must be at most %d characters long", s.max))
  end
  if s.enum_set and not s.enum_set[value] then
    return fail(path, "must be one of: " .. concat(s.enum, ", "))
  end
  if s.pattern and not find(value, s.pattern) then
    return fail(path, "has an invalid format")
  end
  if s.format then
    local rule = FORMAT_CHECKS[s.format]
    if not rule[1](value) then
      return fail(path, rule[2])
    end
  end
  return true, value
end

local function check_range(s, value, path)
  if s.min and value < s.min then
    return fail(path, "must be at least " .. tostring(s.min))
  end
  if s.max and value > s.max then
    return fail(path, "must be at most " .. tostring(s.max))
  end
  return true, value
end

function CHECKERS.integer(s, value, path, ctx)
  if ctx.from_query and type(value) == "string" then
    value = parse_query_integer(value)
  end
  if type(value) ~= "number" or value ~= value then
    return fail(path, "must be an integer")
  end
  if math_type(value) == "float" and value ~= floor(value) then
    return fail(path, "must be an integer")
  end
  -- Also catches inf, which is "integral".
  if value > MAX_SAFE_INTEGER or value < -MAX_SAFE_INTEGER then
    return fail(path, "is out of range")
  end
  return check_range(s, tointeger(value), path)
end

function CHECKERS.number(s, value, path, ctx)
  if ctx.from_query and type(value) == "string" then
    value = parse_query_number(value)
  end
  if type(value) ~= "number" then
    return fail(path, "must be a number")
  end
  if value ~= value or value == huge or value == -huge then
    return fail(path, "must be a finite number")
  end
  return check_range(s, value, path)
end

function CHECKERS.boolean(_, value, path, ctx)
  if ctx.from_query and type(value) == "string" then
    if value == "true" then
      value = true
    elseif value == "false" then
      value = false
    end
  end
  if type(value) ~= "boolean" then
    return fail(path, "must be a boolean")
  end
  return true, value
end

function CHECKERS.array(s, value, path, ctx)
  -- A query parameter given once arrives as a plain string.
  if ctx.from_query and type(value) == "string" then
    value = { value }
  end
  local count = type(value) == "table" and array_length(value)
  if not count then
    return fail(path, "must be an array")
  end
  if s.min_items and count < s.min_items then
    return fail(path, format("must have at least %d items", s.min_items))
  end
  if s.max_items and count > s.max_items then
    return fail(path, format("must have at most %d items", s.max_items))
  end
  local cleaned = {}
  for i = 1, count do
    local ok, result = check(s.items, value[i], format("%s[%d]", path, i - 1), ctx)
    if not ok then
      return false, result
    end
    cleaned[i] = result
  end
  return true, cleaned
end

function CHECKERS.object(s, value, path, ctx)
  if type(value) ~= "table" then
    return fail(path, "must be an object")
  end
  -- Report the smallest unknown name so the error does not depend on
  -- table iteration order.
  local unknown
  for key in next, value do
    if type(key) ~= "string" then
      return fail(path, "must be an object")
    end
    if s.fields[key] == nil and (unknown == nil or key < unknown) then
      unknown = key
    end
  end
  if unknown then
    return fail(join(path, safe_name(unknown)), "unknown field")
  end
  local cleaned = {}
  for _, name in ipairs(s.names) do
    local field_value = rawget(value, name)
    local field_path = join(path, name)
    if field_value == nil then
      if s.required_set[name] then
        return fail(field_path, "is required")
      end
    else
      local ok, result = check(s.fields[name], field_value, field_path, ctx)
      if not ok then
        return false, result
      end
      cleaned[name] = result
    end
  end
  return true, cleaned
end

check = function(s, value, path, ctx)
  if value == nil then
    return fail(path, "is required")
  end
  if ctx.null ~= nil and rawequal(value, ctx.null) then
    if s.nullable then
      return true, nil
    end
    return fail(path, "must not be null")
  end
  return CHECKERS[s.kind](s, value, path, ctx)
end

--- Validate `value` against `s` and return a cleaned copy.
-- The copy holds only declared fields, integers as Lua integers, and nil
-- where a nullable value was null; strings are returned unchanged (no
-- trimming). A nullable root may clean to nil, so test `err`, not the value.
-- @param opts table|nil: null (the JSON null sentinel, e.g. cjson.null;
--   without it nothing is taken for null), from_query (true: scalars arrive
--   as strings and are parsed strictly, "12" / "true" / "1.5")
-- @return cleaned | nil, err where err = { field = "a.b[0].c", message = "..." }
function M.validate(s, value, opts)
  if getmetatable(s) ~= SCHEMA_MT then
    error("schema.validate: schema expected", 2)
  end
  if opts ~= nil and type(opts) ~= "table" then
    error("schema.validate: opts must be a table", 2)
  end
  opts = opts or {}
  local ctx = { null = opts.null, from_query = opts.from_query == true }
  local ok, result = check(s, value, "", ctx)
  if not ok then
    return nil, result
  end
  return result
end

-- JSON Schema.

local TYPE_NAMES = {
  string = "string",
  integer = "integer",
  number = "number",
  boolean = "boolean",
  array = "array",
  object = "object",
}

local function copy_list(list)
  local out = {}
  for i, v in ipairs(list) do
    out[i] = v
  end
  return out
end

local to_json_schema

local function describe(s)
  local out = { type = TYPE_NAMES[s.kind] }
  if s.kind == "string" then
    out.minLength, out.maxLength, out.format = s.min, s.max, s.format
    out.enum = s.enum and copy_list(s.enum)
    -- Lua patterns are not ECMA-262 regexes, so this is an extension
    -- keyword, not "pattern".
    out["x-lua-pattern"] = s.source_pattern
  elseif s.kind == "integer" or s.kind == "number" then
    out.minimum, out.maximum = s.min, s.max
  elseif s.kind == "array" then
    out.items = to_json_schema(s.items)
    out.minItems, out.maxItems = s.min_items, s.max_items
  elseif s.kind == "object" then
    out.properties = {}
    for name, field in next, s.fields do
      out.properties[name] = to_json_schema(field)
    end
    -- An empty list would encode as {} with cjson, so leave it out.
    if #s.required > 0 then
      out.required = copy_list(s.required)
    end
    out.additionalProperties = false
  end
  return out
end

to_json_schema = function(s)
  local out = describe(s)
  if s.nullable then
    if out.enum then
      -- A null member of enum would need the cjson sentinel; anyOf does not.
      out = { anyOf = { out, { type = "null" } } }
    else
      out.type = { out.type, "null" }
    end
  end
  out.description = s.description
  return out
end

--- Describe `s` as JSON Schema 2020-12 (the OpenAPI 3.1 dialect).
-- Returns fresh plain tables that cjson can encode: empty `required` lists
-- are omitted, `properties` of a field-less object is an empty table
-- (encoded as {}), nullable enums become anyOf [.., {type: "null"}], and
-- `pattern` is exported as "x-lua-pattern".
-- @return table; raises if `s` is not a schema
function M.to_json_schema(s)
  if getmetatable(s) ~= SCHEMA_MT then
    error("schema.to_json_schema: schema expected", 2)
  end
  return to_json_schema(s)
end

return M
