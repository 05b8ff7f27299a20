import { describe, expect, it } from "vitest";
import { toggle, toggleAll } from "./selection.js";

const order = ["a", "b", "c", "d", "e"];

describe("toggle", () => {
  it("adds and removes one id", () => {
    const one = toggle(new Set(), order, "b", null, false);
    expect([...one]).toEqual(["b"]);
    expect([...toggle(one, order, "b", "b", false)]).toEqual([]);
  });

  it("selects the range from the anchor on shift-click, in either direction", () => {
    expect([...toggle(new Set(["b"]), order, "d", "b", true)].sort()).toEqual(["b", "c", "d"]);
    expect([...toggle(new Set(), order, "a", "c", true)].sort()).toEqual(["a", "b", "c"]);
  });
});

describe("toggleAll", () => {
  it("selects a whole day, then clears it", () => {
    const all = toggleAll(new Set(["a"]), ["a", "b"]);
    expect([...all].sort()).toEqual(["a", "b"]);
    expect([...toggleAll(all, ["a", "b"])]).toEqual([]);
  });
});
