// Zoom and pan arithmetic for the photo viewer.

export const MIN_SCALE = 1;
export const MAX_SCALE = 8;

/** Clamp a scale to the allowed range. */
export function clampScale(scale) {
  return Math.min(MAX_SCALE, Math.max(MIN_SCALE, scale));
}

/**
 * Zoom around a point (in the frame's coordinates, centre at 0,0) so that the point
 * under the cursor stays put.
 * @returns {{ scale: number, x: number, y: number }}
 */
export function zoomAt(view, factor, px, py) {
  const scale = clampScale(view.scale * factor);
  if (scale === MIN_SCALE) return { scale, x: 0, y: 0 };
  const k = scale / view.scale;
  return { scale, x: px - (px - view.x) * k, y: py - (py - view.y) * k };
}

/** A swipe direction from a pointer movement: 1 (next), -1 (previous) or 0. */
export function swipeDirection(dx, dy, threshold = 50) {
  if (Math.abs(dx) < threshold || Math.abs(dx) < Math.abs(dy) * 1.5) return 0;
  return dx < 0 ? 1 : -1;
}
