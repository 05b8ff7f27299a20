// Selection in the grid: a click toggles one asset, shift-click selects the range from
// the last clicked one, and a day's checkbox selects or clears the whole day.

/**
 * @param {Set<string>} selected current selection (not modified)
 * @param {string[]} order ids in grid order
 * @param {string} id the clicked id
 * @param {string | null} anchor the last clicked id
 * @param {boolean} shift
 * @returns {Set<string>}
 */
export function toggle(selected, order, id, anchor, shift) {
  const next = new Set(selected);
  if (shift && anchor && anchor !== id) {
    const a = order.indexOf(anchor);
    const b = order.indexOf(id);
    if (a >= 0 && b >= 0) {
      const [from, to] = a < b ? [a, b] : [b, a];
      for (let i = from; i <= to; i++) next.add(order[i]);
      return next;
    }
  }
  if (next.has(id)) next.delete(id);
  else next.add(id);
  return next;
}

/** Selects every id of a day, or clears them all when all were selected. */
export function toggleAll(selected, ids) {
  const next = new Set(selected);
  const all = ids.every((id) => next.has(id));
  for (const id of ids) {
    if (all) next.delete(id);
    else next.add(id);
  }
  return next;
}
