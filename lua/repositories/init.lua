--- Shared repository helpers: transactions. Every other repository module holds the
-- SQL for one table.
local db = require("core.db")

local M = {}

--- Run fn(...) in one write transaction (BEGIN IMMEDIATE). When fn returns nil, err
-- the work is rolled back and nil, err returned; when fn raises, it is rolled back
-- and the error propagates.
-- @return fn's results | nil, err
function M.transaction(fn, ...)
  return db.transaction(fn, ...)
end

--- Whether the database answers.
-- @return true | nil, err
function M.ping()
  return db.ping()
end

return M
