// BlurHash placeholders painted into small data URLs, cached by hash.
import { decode } from "blurhash";

const cache = new Map();

/** A data URL for a BlurHash string, or null when it cannot be decoded. */
export function placeholderUrl(hash) {
  if (!hash) return null;
  if (cache.has(hash)) return cache.get(hash);
  let url;
  try {
    const pixels = decode(hash, 16, 16);
    const canvas = document.createElement("canvas");
    canvas.width = 16;
    canvas.height = 16;
    const ctx = canvas.getContext("2d");
    const image = ctx.createImageData(16, 16);
    image.data.set(pixels);
    ctx.putImageData(image, 0, 0);
    url = canvas.toDataURL();
  } catch {
    url = null;
  }
  if (cache.size > 5000) cache.clear();
  cache.set(hash, url);
  return url;
}
