import { describe, expect, it } from "vitest";
import { libraryYears } from "./years.js";

describe("libraryYears", () => {
  it("walks back one request per year with assets, newest first", async () => {
    const dates = ["2025-06-01T00:00:00Z", "2025-01-02T00:00:00Z", "2019-12-31T23:00:00Z"];
    const asked = [];
    const years = await libraryYears(async ({ to }) => {
      asked.push(to);
      const items = dates.filter((d) => !to || d < to).map((d) => ({ captured_at: d }));
      return { items: items.slice(0, 1) };
    });
    expect(years).toEqual([2025, 2019]);
    expect(asked).toEqual([undefined, "2025-01-01", "2019-01-01"]);
  });

  it("finds no years in an empty library", async () => {
    expect(await libraryYears(async () => ({ items: [] }))).toEqual([]);
  });
});
