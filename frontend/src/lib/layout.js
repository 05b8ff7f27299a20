// Turns a newest-first list of assets into the rows of the virtualised grid: a heading
// row for each month and each day, then rows of at most `columns` tiles.
import { assetDate } from "./format.js";

/**
 * @typedef {{ kind: "month", key: string, date: string }
 *   | { kind: "day", key: string, date: string, ids: string[] }
 *   | { kind: "tiles", key: string, items: import("../api/client.js").Asset[], start: number }} Row
 * @param {import("../api/client.js").Asset[]} assets newest first
 * @param {number} columns
 * @returns {{ rows: Row[], years: { year: string, row: number }[] }}
 */
export function buildRows(assets, columns) {
  const rows = [];
  const years = [];
  let month = null;
  let day = null;
  let dayRow = null;
  let tiles = null;
  assets.forEach((asset, index) => {
    const date = assetDate(asset);
    const m = date.slice(0, 7);
    const d = date.slice(0, 10);
    if (m !== month) {
      month = m;
      const year = m.slice(0, 4);
      if (!years.length || years[years.length - 1].year !== year) {
        years.push({ year, row: rows.length });
      }
      rows.push({ kind: "month", key: "m" + m, date });
      day = null;
    }
    if (d !== day) {
      day = d;
      dayRow = { kind: "day", key: "d" + d, date, ids: [] };
      rows.push(dayRow);
      tiles = null;
    }
    dayRow.ids.push(asset.id);
    if (!tiles || tiles.items.length === columns) {
      tiles = { kind: "tiles", key: "t" + asset.id, items: [], start: index };
      rows.push(tiles);
    }
    tiles.items.push(asset);
  });
  return { rows, years };
}
