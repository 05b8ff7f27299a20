// Downloads through signed URLs (attachment disposition), one after another.

/** Starts the browser's download of `url`. */
export function downloadUrl(url) {
  const a = document.createElement("a");
  a.href = url;
  a.rel = "noopener";
  a.download = "";
  document.body.appendChild(a);
  a.click();
  a.remove();
}

/** Downloads the originals of several assets through `source`. */
export async function downloadAll(source, assets) {
  for (const asset of assets) {
    const { url } = await source.url(asset, "original");
    downloadUrl(url);
    await new Promise((r) => setTimeout(r, 300));
  }
}
