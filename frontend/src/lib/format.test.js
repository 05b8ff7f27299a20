import { describe, expect, it } from "vitest";
import {
  daysLeft,
  formatBytes,
  formatDuration,
  formatNumber,
  formatTimeLeft,
  formatUnit,
} from "./format.js";

describe("formatBytes", () => {
  it("uses decimal units and the locale's decimal mark", () => {
    expect(formatBytes(1500000, "en")).toBe("1.5 MB");
    expect(formatBytes(1500000, "ru", ["Б", "КБ", "МБ", "ГБ", "ТБ"])).toBe("1,5 МБ");
    expect(formatBytes(999, "en")).toBe("999 B");
  });
});

describe("formatDuration", () => {
  it("writes minutes and seconds", () => {
    expect(formatDuration(65000)).toBe("1:05");
    expect(formatDuration(0)).toBe("0:00");
  });
});

describe("daysLeft", () => {
  it("counts whole days to the end of the retention, never below zero", () => {
    const now = Date.parse("2025-03-10T12:00:00Z");
    expect(daysLeft("2025-03-10T00:00:00Z", 30, now)).toBe(30);
    expect(daysLeft("2025-02-01T00:00:00Z", 30, now)).toBe(0);
  });
});

describe("formatTimeLeft", () => {
  it("writes hours, minutes and seconds in the locale's short units", () => {
    expect(formatTimeLeft(40, "en")).toBe("40 sec");
    expect(formatTimeLeft(0.2, "en")).toBe("1 sec");
    expect(formatTimeLeft(125, "en")).toBe("2 min 5 sec");
    expect(formatTimeLeft(3900, "en")).toBe("1 hr 5 min");
    expect(formatTimeLeft(7200, "ru")).toBe("2 ч");
    expect(formatTimeLeft(125, "ru")).toBe("2 мин 5 с");
  });
});

describe("formatNumber and formatUnit", () => {
  it("follow the locale's decimal mark and unit names", () => {
    expect(formatNumber(2.8, "ru")).toBe("2,8");
    expect(formatUnit(35, "millimeter", "en")).toBe("35 mm");
    expect(formatUnit(35, "millimeter", "ru")).toBe("35 мм");
  });
});
