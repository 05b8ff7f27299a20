import { describe, expect, it } from "vitest";
import { buildRows } from "./layout.js";

const asset = (id, date) => ({ id, captured_at: date, created_at: date });

describe("buildRows", () => {
  it("adds month and day headings and wraps tiles at the column count", () => {
    const list = [
      asset("a", "2025-03-02T10:00:00Z"),
      asset("b", "2025-03-02T09:00:00Z"),
      asset("c", "2025-03-02T08:00:00Z"),
      asset("d", "2025-03-01T08:00:00Z"),
      asset("e", "2024-12-31T08:00:00Z"),
    ];
    const { rows, years } = buildRows(list, 2);
    expect(rows.map((r) => r.kind)).toEqual([
      "month",
      "day",
      "tiles",
      "tiles",
      "day",
      "tiles",
      "month",
      "day",
      "tiles",
    ]);
    expect(rows[2].items.map((a) => a.id)).toEqual(["a", "b"]);
    expect(rows[3].start).toBe(2);
    expect(rows[1].ids).toEqual(["a", "b", "c"]);
    expect(years).toEqual([
      { year: "2025", row: 0 },
      { year: "2024", row: 6 },
    ]);
  });

  it("falls back to the upload time when there is no capture time", () => {
    const { rows } = buildRows([{ id: "x", created_at: "2023-05-05T00:00:00Z" }], 4);
    expect(rows[1].key).toBe("d2023-05-05");
  });
});
