// The years a library has assets in, newest first, found with one one-item page per
// year: the newest asset, then the newest before 1 January of its year, and so on.
import { assetDate } from "./format.js";

/**
 * @param {(params: { limit: number, to?: string }) => Promise<{ items: any[] }>} fetchPage
 * @returns {Promise<number[]>}
 */
export async function libraryYears(fetchPage, maxYears = 300) {
  const years = [];
  let to;
  while (years.length < maxYears) {
    const page = await fetchPage({ limit: 1, to });
    if (!page.items.length) break;
    const year = Number(assetDate(page.items[0]).slice(0, 4));
    years.push(year);
    to = `${String(year).padStart(4, "0")}-01-01`;
  }
  return years;
}
