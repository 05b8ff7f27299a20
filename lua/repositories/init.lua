--- Shared repository helpers: transactions and the shapes of answers. Every other
-- repository module holds the SQL for one table.
local db = require("core.db")

local M = {}

--- Run fn(...) in one write transaction (BEGIN IMMEDIATE). When fn returns nil, err
-- the work is rolled back and nil, err returned; when fn raises, it is rolled back
-- and the error propagates.
-- @return fn's results | nil, err
function M.transaction(fn, ...)
  return db.transaction(fn, ...)
end

--- The first row of a query's answer.
-- @return row | nil when there is none | nil, err
function M.first(rows, err)
  if not rows then
    return nil, err
  end
  return rows[1]
end

--- The number of rows an exec changed.
-- @return count | nil, err, code
function M.count(changes, err, code)
  if not changes then
    return nil, err, code
  end
  return changes
end

--- One column of a query's answer as a list.
-- @return list | nil, err
function M.column(rows, err, name)
  if not rows then
    return nil, err
  end
  local list = {}
  for i, row in ipairs(rows) do
    list[i] = row[name]
  end
  return list
end

--- Whether the database answers.
-- @return true | nil, err
function M.ping()
  return db.ping()
end

return M
