// Where the grid and the viewer get signed URLs from: the owner's API, or a public
// share's. URLs are cached by TanStack Query for less than their lifetime.
import { createContext, useContext } from "react";
import { useQuery } from "@tanstack/react-query";
import { assets as assetsApi, publicShare } from "../api/client.js";

const URL_STALE_MS = 4 * 60 * 1000;

/** The owner's source: `kind` is thumb | preview | poster | original | stream. */
export const ownerSource = {
  scope: "owner",
  url: (asset, kind) =>
    kind === "stream" ? assetsApi.streamUrl(asset.id) : assetsApi.downloadUrl(asset.id, kind),
  canDownload: true,
};

/** A public share's source. */
export function shareSource(token, session, allowDownload) {
  return {
    scope: "share:" + token + ":" + (session || ""),
    url: (asset, kind) => publicShare.downloadUrl(token, session, asset.id, kind),
    canDownload: allowDownload,
  };
}

/** Longest side above which the server makes a photo's preview (services/media.lua). */
const PREVIEW_SIDE = 2048;

/** Whether a photo has a preview: only larger ones do (unknown sizes are asked for);
 * a smaller photo's original is what its preview would be. */
export function hasPreview(asset) {
  if (!asset.width || !asset.height) return true;
  return Math.max(asset.width, asset.height) > PREVIEW_SIDE;
}

export const MediaContext = createContext(ownerSource);

export function useMediaSource() {
  return useContext(MediaContext);
}

/** A signed URL for one form of an asset; `null` while it is not available. */
export function useAssetUrl(asset, kind, enabled = true) {
  const source = useMediaSource();
  const query = useQuery({
    queryKey: ["url", source.scope, asset?.id, kind],
    queryFn: () => source.url(asset, kind).then((r) => r.url),
    staleTime: URL_STALE_MS,
    gcTime: URL_STALE_MS,
    enabled: !!asset && enabled,
    retry: false,
  });
  return { url: query.data || null, error: query.error, loading: query.isLoading };
}
