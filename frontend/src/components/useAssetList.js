// A paged asset list (library, trash, album, tag, share) on the cursor API, newest
// first. While thumbnails are still being made the list refreshes itself.
import { useMemo } from "react";
import { useInfiniteQuery } from "@tanstack/react-query";

const PAGE = 200;

/**
 * @param {unknown[]} key query key
 * @param {(cursor?: string, limit?: number) => Promise<{ items: any[], next_cursor?: string }>} fetchPage
 */
export function useAssetList(key, fetchPage, enabled = true) {
  const query = useInfiniteQuery({
    queryKey: key,
    queryFn: ({ pageParam }) => fetchPage(pageParam, PAGE),
    initialPageParam: undefined,
    getNextPageParam: (last) => last.next_cursor || undefined,
    enabled,
    refetchInterval: (q) => {
      const pages = q.state.data?.pages || [];
      const pending = pages.some((p) => p.items.some((a) => a.thumb_status === "pending"));
      return pending ? 2000 : false;
    },
  });
  const items = useMemo(() => (query.data?.pages || []).flatMap((p) => p.items), [query.data]);
  return { ...query, items };
}
