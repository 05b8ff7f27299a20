// The viewer over a listing, loaded on first use: `viewing` is the open item's index in
// `items` (null when closed); more of the listing loads as the viewer nears its end.
import { lazy, Suspense } from "react";

const Viewer = lazy(() => import("./Viewer.jsx"));

export default function LazyViewer({ items, viewing, onViewing, onAction, actions, more }) {
  if (viewing === null || !items[viewing]) return null;
  return (
    <Suspense fallback={null}>
      <Viewer
        items={items}
        index={viewing}
        onIndex={onViewing}
        onClose={() => onViewing(null)}
        onAction={onAction}
        actions={actions}
        hasMore={!!more?.hasNextPage}
        loadMore={more?.fetchNextPage}
      />
    </Suspense>
  );
}
