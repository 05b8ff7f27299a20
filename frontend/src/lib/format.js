// Sizes, dates and durations formatted for the UI's language.

const UNITS = ["B", "KB", "MB", "GB", "TB"];

/** "1.5 MB" / "1,5 МБ": decimal units, the number formatted per locale. */
export function formatBytes(bytes, locale, unitNames = UNITS) {
  let value = Number(bytes) || 0;
  let unit = 0;
  while (value >= 1000 && unit < UNITS.length - 1) {
    value /= 1000;
    unit++;
  }
  const digits = unit === 0 || value >= 100 ? 0 : 1;
  const n = new Intl.NumberFormat(locale, { maximumFractionDigits: digits }).format(value);
  return `${n} ${unitNames[unit]}`;
}

/** The date an asset was taken (or uploaded). */
export function assetDate(asset) {
  return asset.captured_at || asset.created_at;
}

/** A day heading: "Monday, 3 March 2025" in the locale's order. */
export function formatDay(iso, locale) {
  return new Intl.DateTimeFormat(locale, {
    weekday: "short",
    day: "numeric",
    month: "long",
    year: "numeric",
    timeZone: "UTC",
  }).format(new Date(iso));
}

/** A month heading: "March 2025". */
export function formatMonth(iso, locale) {
  return new Intl.DateTimeFormat(locale, {
    month: "long",
    year: "numeric",
    timeZone: "UTC",
  }).format(new Date(iso));
}

/** Date and time, for the info panel and lists. */
export function formatDateTime(iso, locale) {
  if (!iso) return "";
  return new Intl.DateTimeFormat(locale, { dateStyle: "medium", timeStyle: "short" }).format(
    new Date(iso),
  );
}

/** "1:05" for a video length in milliseconds. */
export function formatDuration(ms) {
  const total = Math.round((ms || 0) / 1000);
  const m = Math.floor(total / 60);
  const s = String(total % 60).padStart(2, "0");
  return `${m}:${s}`;
}

/** "2.8" / "2,8". */
export function formatNumber(value, locale) {
  return new Intl.NumberFormat(locale).format(value);
}

/** "35 mm" / "35 мм": a value in one of Intl's units, its short name. */
export function formatUnit(value, unit, locale) {
  return new Intl.NumberFormat(locale, { style: "unit", unit, unitDisplay: "short" }).format(value);
}

/** "1 hr 5 min" / "1 ч 5 мин": an upload's time left, in the locale's short units
 * (seconds only under a minute, no seconds from an hour on). */
export function formatTimeLeft(seconds, locale) {
  const total = Math.max(1, Math.ceil(seconds));
  const unit = (name, value) => formatUnit(value, name, locale);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const parts = h
    ? [unit("hour", h), m && unit("minute", m)]
    : m
      ? [unit("minute", m), s && unit("second", s)]
      : [unit("second", s)];
  return new Intl.ListFormat(locale, { style: "narrow", type: "unit" }).format(
    parts.filter(Boolean),
  );
}

/** Whole days left before an item trashed at `deletedAt` is removed, never below 0. */
export function daysLeft(deletedAt, retentionDays, now = Date.now()) {
  const end = new Date(deletedAt).getTime() + retentionDays * 86400000;
  return Math.max(0, Math.ceil((end - now) / 86400000));
}
