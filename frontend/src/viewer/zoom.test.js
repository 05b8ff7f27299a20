import { describe, expect, it } from "vitest";
import { swipeDirection, zoomAt } from "./zoom.js";

describe("zoomAt", () => {
  it("keeps the point under the cursor in place", () => {
    const v = zoomAt({ scale: 1, x: 0, y: 0 }, 2, 100, 50);
    expect(v).toEqual({ scale: 2, x: -100, y: -50 });
    // the image point under (100, 50) is (100 - x) / scale = 100 before and after
    expect((100 - v.x) / v.scale).toBe(100);
  });
  it("snaps back to the centre at the smallest scale and caps the largest", () => {
    expect(zoomAt({ scale: 2, x: 40, y: 9 }, 0.1, 0, 0)).toEqual({ scale: 1, x: 0, y: 0 });
    expect(zoomAt({ scale: 8, x: 0, y: 0 }, 2, 0, 0).scale).toBe(8);
  });
});

describe("swipeDirection", () => {
  it("reads a horizontal swipe, ignores short or vertical moves", () => {
    expect(swipeDirection(-80, 5)).toBe(1);
    expect(swipeDirection(80, 5)).toBe(-1);
    expect(swipeDirection(20, 0)).toBe(0);
    expect(swipeDirection(60, 100)).toBe(0);
  });
});
