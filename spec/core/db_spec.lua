-- core.db against the spec database, in a scratch table of its own.
local db = core.db

local TABLE = ("spec_scratch_db_%d_%d"):format(core.time.unix(), math.random(1, 1e9))

local function count(where, ...)
  local rows = assert(db.query("SELECT count(*) AS n FROM " .. TABLE .. " WHERE " .. where, ...))
  return rows[1].n
end

describe("core.db", function()
  setup(function()
    assert(db.exec("CREATE TABLE IF NOT EXISTS " .. TABLE .. " (id INTEGER PRIMARY KEY,"
      .. " name TEXT UNIQUE, i INTEGER, f REAL, t TEXT, b BLOB, n TEXT, req TEXT NOT NULL DEFAULT 'x')"))
  end)

  teardown(function()
    assert(db.exec("DROP TABLE IF EXISTS " .. TABLE))
    db.exec("DROP TABLE IF EXISTS " .. TABLE .. "_child")
    db.exec("DROP TABLE IF EXISTS " .. TABLE .. "_parent")
  end)

  before_each(function()
    assert(db.exec("DELETE FROM " .. TABLE))
  end)

  describe("query", function()
    it("returns rows as tables with typed values, SQL NULL leaving the key out", function()
      assert(db.exec("INSERT INTO " .. TABLE .. " (name, i, f, t, b, n) VALUES (?, ?, ?, ?, ?, ?)",
        "typed", 42, 1.5, "text", "\0\1\2\255blob", nil))
      local rows = assert(db.query("SELECT i, f, t, b, n FROM " .. TABLE .. " WHERE name = ?", "typed"))
      assert.equal(1, #rows)
      local row = rows[1]
      assert.equal(42, row.i)
      assert.equal("integer", math.type(row.i))
      assert.equal(1.5, row.f)
      assert.equal("float", math.type(row.f))
      assert.equal("text", row.t)
      assert.equal("\0\1\2\255blob", row.b)
      assert.is_nil(row.n)
      local keys = {}
      for key in pairs(row) do
        keys[#keys + 1] = key
      end
      table.sort(keys)
      assert.same({ "b", "f", "i", "t" }, keys)
    end)

    it("keeps 64-bit integers and floats exact", function()
      local rows = db.query("SELECT ? AS big, ? AS small, ? AS tenth, ? AS huge",
        math.maxinteger, math.mininteger, 0.1, 1e300)
      assert.equal(math.maxinteger, rows[1].big)
      assert.equal(math.mininteger, rows[1].small)
      assert.equal(0.1, rows[1].tenth)
      assert.equal(1e300, rows[1].huge)
    end)

    it("returns an empty list when nothing matches", function()
      assert.same({}, db.query("SELECT * FROM " .. TABLE .. " WHERE id = ?", -1))
    end)

    it("names columns by their alias, the last one winning for duplicates", function()
      local row = db.query("SELECT 1 AS a, 2 AS a, 3 AS \"with space\"")[1]
      assert.equal(2, row.a)
      assert.equal(3, row["with space"])
    end)
  end)

  describe("binding", function()
    it("binds nil as NULL, booleans as 0/1, integers, floats and strings", function()
      local row = db.query("SELECT typeof(?) AS tn, ? AS yes, ? AS no, typeof(?) AS ti,"
        .. " typeof(?) AS tf, typeof(?) AS ts, ? AS s", nil, true, false, 7, 7.0, "7", "")[1]
      assert.equal("null", row.tn)
      assert.equal(1, row.yes)
      assert.equal(0, row.no)
      assert.equal("integer", row.ti)
      assert.equal("real", row.tf)
      assert.equal("text", row.ts)
      assert.equal("", row.s)
    end)

    it("binds strings with NUL bytes whole", function()
      assert(db.exec("INSERT INTO " .. TABLE .. " (name, t) VALUES (?, ?)", "nul", "a\0b"))
      assert.equal("a\0b", db.query("SELECT t FROM " .. TABLE .. " WHERE name = ?", "nul")[1].t)
      assert.equal(1, count("t = ?", "a\0b"))
      assert.equal(0, count("t = ?", "a"))
    end)

    it("treats bound SQL as data", function()
      local probe = "x'); DROP TABLE " .. TABLE .. "; --"
      assert(db.exec("INSERT INTO " .. TABLE .. " (name) VALUES (?)", probe))
      assert.equal(probe, db.query("SELECT name FROM " .. TABLE)[1].name)
      assert.equal(0, count("name = ?", "' OR 1=1 --"))
    end)

    it("raises on the wrong number of parameters", function()
      assert.has_error(function() db.query("SELECT ? AS a, ? AS b", 1) end,
        "core.db.query: wrong number of parameters")
      assert.has_error(function() db.query("SELECT ? AS a", 1, 2) end,
        "core.db.query: wrong number of parameters")
      assert.has_error(function() db.exec("DELETE FROM " .. TABLE .. " WHERE id = ?") end,
        "core.db.exec: wrong number of parameters")
    end)

    it("raises on values it cannot bind", function()
      assert.has_error(function() db.query("SELECT ? AS a", {}) end,
        "core.db.query: parameters must be nil, boolean, number or string")
      assert.has_error(function() db.exec("SELECT ?", print) end,
        "core.db.exec: parameters must be nil, boolean, number or string")
    end)

    it("keeps working after a binding error", function()
      pcall(db.query, "SELECT ? AS a", {})
      assert.equal(5, db.query("SELECT ? AS a", 5)[1].a)
    end)

    it("raises when the SQL is not a string", function()
      assert.has_error(function() db.query(nil) end)
      assert.has_error(function() db.exec({}) end)
    end)
  end)

  describe("failures", function()
    it("returns nil, err, unique for a unique violation", function()
      assert(db.exec("INSERT INTO " .. TABLE .. " (name) VALUES (?)", "dup"))
      local ok, err, code = db.exec("INSERT INTO " .. TABLE .. " (name) VALUES (?)", "dup")
      assert.is_nil(ok)
      assert.matches("^sqlite: UNIQUE constraint failed", err)
      assert.equal("unique", code)
      local id = db.query("SELECT id FROM " .. TABLE)[1].id
      ok, err, code = db.exec("INSERT INTO " .. TABLE .. " (id, name) VALUES (?, ?)", id, "other")
      assert.is_nil(ok)
      assert.equal("unique", code)
    end)

    it("returns nil, err, constraint for other constraint violations", function()
      local ok, err, code = db.exec("INSERT INTO " .. TABLE .. " (name, req) VALUES (?, ?)", "nn", nil)
      assert.is_nil(ok)
      assert.matches("NOT NULL", err)
      assert.equal("constraint", code)
    end)

    it("returns nil, err, error for bad SQL instead of raising", function()
      local rows, err, code = db.query("SELEC 1")
      assert.is_nil(rows)
      assert.matches("^sqlite: .*syntax error", err)
      assert.equal("error", code)
      rows, err = db.query("SELECT * FROM spec_no_such_table_xyz")
      assert.is_nil(rows)
      assert.matches("no such table", err)
    end)

    it("refuses empty SQL, every time (the cache must not keep it)", function()
      for _ = 1, 3 do
        local rows, err = db.query("")
        assert.is_nil(rows)
        assert.equal("sqlite: no SQL statement", err)
        assert.is_nil(db.exec("  -- a comment only"))
      end
    end)

    it("refuses more than one statement instead of running only the first", function()
      local ok, err = db.exec("INSERT INTO " .. TABLE .. " (name) VALUES ('one');"
        .. " INSERT INTO " .. TABLE .. " (name) VALUES ('two')")
      assert.is_nil(ok)
      assert.equal("sqlite: one SQL statement per call", err)
      assert.equal(0, count("1 = 1"))
      assert.is_nil(db.query("SELECT 1 AS a\0; SELECT 2"))
    end)

    it("allows a trailing semicolon", function()
      assert.equal(1, db.query("SELECT 1 AS a;  ")[1].a)
    end)
  end)

  describe("exec", function()
    it("returns the number of changed rows and the last rowid", function()
      local changes, rowid = db.exec("INSERT INTO " .. TABLE .. " (name) VALUES (?)", "r1")
      assert.equal(1, changes)
      assert.equal("integer", math.type(rowid))
      assert.equal(rowid, db.query("SELECT id FROM " .. TABLE .. " WHERE name = 'r1'")[1].id)
      db.exec("INSERT INTO " .. TABLE .. " (name) VALUES (?)", "r2")
      assert.equal(2, (db.exec("UPDATE " .. TABLE .. " SET i = 1")))
      assert.equal(0, (db.exec("UPDATE " .. TABLE .. " SET i = 1 WHERE id = -1")))
    end)
  end)

  describe("transaction", function()
    it("commits and returns every result of fn, passing it the arguments", function()
      local a, b, c = db.transaction(function(x, y)
        assert(db.exec("INSERT INTO " .. TABLE .. " (name) VALUES (?)", x))
        assert(db.exec("INSERT INTO " .. TABLE .. " (name) VALUES (?)", y))
        return "done", 2, nil
      end, "t1", "t2")
      assert.equal("done", a)
      assert.equal(2, b)
      assert.is_nil(c)
      assert.equal(2, count("name IN ('t1', 't2')"))
    end)

    it("commits when fn returns nothing", function()
      db.transaction(function()
        db.exec("INSERT INTO " .. TABLE .. " (name) VALUES ('quiet')")
      end)
      assert.equal(1, count("name = 'quiet'"))
    end)

    it("rolls back and returns nil, err when fn returns nil, err", function()
      local ok, err = db.transaction(function()
        assert(db.exec("INSERT INTO " .. TABLE .. " (name) VALUES ('gone')"))
        return nil, "changed my mind"
      end)
      assert.is_nil(ok)
      assert.equal("changed my mind", err)
      assert.equal(0, count("name = 'gone'"))
    end)

    it("rolls back and raises the same error again when fn raises", function()
      local marker = { reason = "boom" }
      local ok, err = pcall(db.transaction, function()
        assert(db.exec("INSERT INTO " .. TABLE .. " (name) VALUES ('raised')"))
        error(marker)
      end)
      assert.is_false(ok)
      assert.equal(marker, err)
      assert.equal(0, count("name = 'raised'"))
      assert.has_error(function()
        db.transaction(function() error("plain message", 0) end)
      end, "plain message")
    end)

    it("works again after a failed transaction", function()
      pcall(db.transaction, function() error("x") end)
      db.transaction(function() return nil, "no" end)
      assert.equal("yes", db.transaction(function()
        db.exec("INSERT INTO " .. TABLE .. " (name) VALUES ('after')")
        return "yes"
      end))
      assert.equal(1, count("name = 'after'"))
    end)

    it("nests as a savepoint: an inner failure undoes only the inner work", function()
      local result = db.transaction(function()
        db.exec("INSERT INTO " .. TABLE .. " (name) VALUES ('outer')")
        local ok, err = db.transaction(function()
          db.exec("INSERT INTO " .. TABLE .. " (name) VALUES ('inner')")
          return nil, "inner failed"
        end)
        assert.is_nil(ok)
        assert.equal("inner failed", err)
        assert.is_false(pcall(db.transaction, function()
          db.exec("INSERT INTO " .. TABLE .. " (name) VALUES ('inner raised')")
          error("inner raised")
        end))
        local kept = db.transaction(function()
          db.exec("INSERT INTO " .. TABLE .. " (name) VALUES ('inner kept')")
          return "kept"
        end)
        assert.equal("kept", kept)
        return "outer done"
      end)
      assert.equal("outer done", result)
      assert.equal(1, count("name = 'outer'"))
      assert.equal(0, count("name = 'inner'"))
      assert.equal(0, count("name = 'inner raised'"))
      assert.equal(1, count("name = 'inner kept'"))
    end)

    it("rolls back inner savepoints with the outer transaction", function()
      db.transaction(function()
        db.transaction(function()
          db.exec("INSERT INTO " .. TABLE .. " (name) VALUES ('deep')")
          return true
        end)
        return nil, "outer failed"
      end)
      assert.equal(0, count("name = 'deep'"))
    end)

    it("nests three levels deep", function()
      local depth3 = db.transaction(function()
        return db.transaction(function()
          return db.transaction(function()
            db.exec("INSERT INTO " .. TABLE .. " (name) VALUES ('three')")
            return 3
          end)
        end)
      end)
      assert.equal(3, depth3)
      assert.equal(1, count("name = 'three'"))
    end)

    it("returns nil, err when the commit itself fails (deferred foreign key)", function()
      local parent, child = TABLE .. "_parent", TABLE .. "_child"
      assert(db.exec("CREATE TABLE IF NOT EXISTS " .. parent .. " (id INTEGER PRIMARY KEY)"))
      assert(db.exec("CREATE TABLE IF NOT EXISTS " .. child .. " (id INTEGER PRIMARY KEY,"
        .. " parent_id INTEGER REFERENCES " .. parent .. " (id) DEFERRABLE INITIALLY DEFERRED)"))
      local ok, err = db.transaction(function()
        assert(db.exec("INSERT INTO " .. child .. " (parent_id) VALUES (?)", 12345))
        return "looked fine"
      end)
      assert.is_nil(ok)
      assert.matches("^sqlite: commit failed: FOREIGN KEY constraint failed", err)
      assert.same({}, db.query("SELECT * FROM " .. child))
      -- and the connection is usable, outside any transaction
      assert.equal("again", db.transaction(function() return "again" end))
    end)

    it("raises when fn is not a function", function()
      assert.has_error(function() db.transaction("not a function") end)
      assert.has_error(function() db.transaction() end)
    end)
  end)

  describe("statement cache", function()
    it("gives the right answers for many more distinct statements than it has slots", function()
      for round = 1, 3 do
        for k = 1, 300 do
          local sql = "SELECT ? + " .. k .. " AS v, '" .. string.rep("s", k % 7) .. "' AS s"
          local row = assert(db.query(sql, round))[1]
          assert.equal(round + k, row.v)
          assert.equal(string.rep("s", k % 7), row.s)
        end
      end
    end)

    it("reuses a statement with fresh bindings each time", function()
      local sql = "SELECT ? AS a, ? AS b"
      assert.same({ a = 1, b = "x" }, db.query(sql, 1, "x")[1])
      assert.same({ a = 2 }, db.query(sql, 2, nil)[1])
      assert.same({ b = "y" }, db.query(sql, nil, "y")[1])
    end)

    it("keeps inserts and reads right when statements evict each other", function()
      for k = 1, 200 do
        assert(db.exec("INSERT INTO " .. TABLE .. " (name, i) VALUES (?, ?) -- " .. k, "c" .. k, k))
      end
      for k = 200, 1, -1 do
        local rows = db.query("SELECT i FROM " .. TABLE .. " WHERE name = ? -- " .. k, "c" .. k)
        assert.equal(k, rows[1].i)
      end
      assert.equal(200, count("name LIKE 'c%'"))
    end)
  end)

  it("ping answers true", function()
    assert.is_true(db.ping())
  end)

  it("driver names the engine", function()
    assert.equal("sqlite", db.driver())
  end)
end)
