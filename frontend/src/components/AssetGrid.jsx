// The virtualised grid: month and day headings, square tiles, only the rows near the
// viewport in the DOM; the next page loads as the end comes near. A year scrubber on
// the side lists the library's years: a loaded one is scrolled to, another one
// restarts the list from the end of that year (onJumpYear). Selection: click (or Enter
// on a focused tile) toggles in selection mode, Space on a focused tile toggles it at
// any time, Shift with either selects a range, a day's checkbox selects the whole day,
// Escape clears the selection, Ctrl+A (⌘A) selects everything loaded. On touch screens
// the selection circles always show and a long press selects.
import { useEffect, useMemo, useRef, useState } from "react";
import { useTranslation } from "react-i18next";
import { useWindowVirtualizer } from "@tanstack/react-virtual";
import { Box, Checkbox, CircularProgress, IconButton, Stack, Typography } from "@mui/material";
import CheckCircleIcon from "@mui/icons-material/CheckCircle";
import RadioButtonUncheckedIcon from "@mui/icons-material/RadioButtonUnchecked";
import { buildRows } from "../lib/layout.js";
import { formatDay, formatMonth } from "../lib/format.js";
import { toggle, toggleAll } from "../lib/selection.js";
import Thumb from "./Thumb.jsx";

const GAP = 4;
const MONTH_HEIGHT = 56;
const DAY_HEIGHT = 40;

/** [callback ref, { width, top }]: the element's width and page offset, followed as
 * they change (ResizeObserver reports once at the start too). */
function useBox() {
  const [node, setNode] = useState(null);
  const [box, setBox] = useState({ width: 0, top: 0 });
  useEffect(() => {
    if (!node) return undefined;
    const observer = new ResizeObserver((entries) =>
      setBox({
        width: entries[0].contentRect.width,
        top: node.getBoundingClientRect().top + window.scrollY,
      }),
    );
    observer.observe(node);
    return () => observer.disconnect();
  }, [node]);
  return [setNode, box];
}

const LONG_PRESS_MS = 500;
const LONG_PRESS_SLOP_PX = 10;

/** A long press of a finger on a tile (held still for half a second) calls `onPress`;
 * the click that ends it is then swallowed (`consumed()`), and so is the system's menu. */
function useLongPress(onPress) {
  const state = useRef({ timer: null, at: null, fired: false });
  const cancel = () => {
    clearTimeout(state.current.timer);
    state.current.timer = null;
  };
  return {
    consumed() {
      const fired = state.current.fired;
      state.current.fired = false;
      return fired;
    },
    handlers: (asset) => ({
      onPointerDown(e) {
        cancel();
        state.current.fired = false; // a long press that no click followed
        if (e.pointerType !== "touch") return;
        state.current.at = [e.clientX, e.clientY];
        state.current.timer = setTimeout(() => {
          state.current.timer = null;
          state.current.fired = true;
          onPress(asset);
        }, LONG_PRESS_MS);
      },
      onPointerMove(e) {
        const at = state.current.at;
        if (at && Math.hypot(e.clientX - at[0], e.clientY - at[1]) > LONG_PRESS_SLOP_PX) cancel();
      },
      onPointerUp: cancel,
      onPointerCancel: cancel,
      onContextMenu(e) {
        if (e.nativeEvent.pointerType === "touch" || state.current.fired) e.preventDefault();
      },
    }),
  };
}

/** Columns for a width: tiles of about 180 px, at least 3 (phones). */
export function columnsFor(width) {
  return Math.max(3, Math.floor((width + GAP) / (width < 600 ? 110 : 180)));
}

export default function AssetGrid({
  list,
  selected,
  onSelectedChange,
  onOpen,
  caption,
  emptyText,
  allYears,
  onJumpYear,
}) {
  const { t, i18n } = useTranslation();
  const [containerRef, { width, top: offset }] = useBox();
  const columns = columnsFor(width || 1024);
  const tile = Math.floor((Math.max(width, 300) - GAP * (columns - 1)) / columns);
  const { items, hasNextPage, isFetchingNextPage, fetchNextPage, isLoading } = list;
  const { rows, years } = useMemo(() => buildRows(items, columns), [items, columns]);
  const order = useMemo(() => items.map((a) => a.id), [items]);
  const anchor = useRef(null);

  const virtualizer = useWindowVirtualizer({
    count: rows.length,
    estimateSize: (i) =>
      rows[i].kind === "month" ? MONTH_HEIGHT : rows[i].kind === "day" ? DAY_HEIGHT : tile + GAP,
    overscan: 4,
    scrollMargin: offset,
  });

  useEffect(() => {
    virtualizer.measure();
  }, [tile, virtualizer]);

  const virtualRows = virtualizer.getVirtualItems();
  const lastIndex = virtualRows.length ? virtualRows[virtualRows.length - 1].index : 0;
  useEffect(() => {
    if (hasNextPage && !isFetchingNextPage && lastIndex >= rows.length - 8) fetchNextPage();
  }, [lastIndex, rows.length, hasNextPage, isFetchingNextPage, fetchNextPage]);

  const selecting = selected && selected.size > 0;
  const scrubber = allYears || years.map((y) => Number(y.year));

  function goToYear(year) {
    const loaded = years.find((y) => Number(y.year) === year);
    if (loaded) {
      virtualizer.scrollToIndex(loaded.row, { align: "start" });
    } else if (onJumpYear) {
      window.scrollTo(0, 0);
      onJumpYear(year);
    }
  }

  const longPress = useLongPress((asset) => select({ shiftKey: false }, asset));

  /** Toggles one asset, or with Shift the range from the last one toggled. */
  function select(event, asset) {
    onSelectedChange(toggle(selected, order, asset.id, anchor.current, event.shiftKey));
    anchor.current = asset.id;
  }

  function clickTile(event, asset, index) {
    if (selecting || event.shiftKey || event.ctrlKey || event.metaKey) select(event, asset);
    else onOpen(index);
  }

  if (isLoading) {
    return (
      <Box sx={{ p: 6, textAlign: "center" }}>
        <CircularProgress aria-label={t("common.loading")} />
      </Box>
    );
  }
  if (!items.length) {
    return (
      <Typography sx={{ p: 4 }} color="text.secondary" data-testid="empty">
        {emptyText || t("library.empty")}
      </Typography>
    );
  }

  return (
    <Box sx={{ display: "flex" }}>
      <Box
        ref={containerRef}
        sx={{ flex: 1, minWidth: 0 }}
        data-testid="asset-grid"
        onKeyDown={(e) => {
          if (!onSelectedChange) return;
          if (e.key === "Escape" && selecting) onSelectedChange(new Set());
          if (e.key === "a" && (e.ctrlKey || e.metaKey)) {
            e.preventDefault();
            onSelectedChange(new Set(order));
          }
        }}
      >
        <Box sx={{ height: virtualizer.getTotalSize(), position: "relative" }}>
          {virtualRows.map((v) => {
            const row = rows[v.index];
            const style = {
              position: "absolute",
              top: 0,
              left: 0,
              width: "100%",
              height: v.size,
              transform: `translateY(${v.start - virtualizer.options.scrollMargin}px)`,
            };
            if (row.kind === "month") {
              return (
                <Box
                  key={row.key}
                  style={style}
                  sx={{ display: "flex", alignItems: "flex-end", pb: 1 }}
                >
                  <Typography variant="h6" component="h2">
                    {formatMonth(row.date, i18n.language)}
                  </Typography>
                </Box>
              );
            }
            if (row.kind === "day") {
              const all = selected && row.ids.every((id) => selected.has(id));
              return (
                <Stack key={row.key} style={style} direction="row" alignItems="center" spacing={1}>
                  {onSelectedChange && (
                    <Checkbox
                      size="small"
                      checked={!!all}
                      onChange={() => onSelectedChange(toggleAll(selected, row.ids))}
                      slotProps={{
                        input: {
                          "aria-label": t("library.selectDay", {
                            day: formatDay(row.date, i18n.language),
                          }),
                        },
                      }}
                    />
                  )}
                  <Typography variant="subtitle2" component="h3">
                    {formatDay(row.date, i18n.language)}
                  </Typography>
                </Stack>
              );
            }
            return (
              <Box key={row.key} style={style} sx={{ display: "flex", gap: `${GAP}px` }}>
                {row.items.map((asset, i) => {
                  const index = row.start + i;
                  const isSelected = selected?.has(asset.id);
                  // the tile and its selection circle are siblings: no button in a button
                  return (
                    <Box
                      key={asset.id}
                      sx={{
                        position: "relative",
                        "&:hover .select-box, & .select-box.on": { opacity: 1 },
                        // no hover on touch screens: the circles are always there
                        "@media (hover: none)": { "& .select-box": { opacity: 1 } },
                      }}
                    >
                      <Box
                        role="button"
                        tabIndex={0}
                        aria-label={asset.original_filename}
                        aria-pressed={selecting ? !!isSelected : undefined}
                        data-testid="tile"
                        data-asset-id={asset.id}
                        data-type={asset.type}
                        onClick={(e) => {
                          if (!longPress.consumed()) clickTile(e, asset, index);
                        }}
                        {...(onSelectedChange ? longPress.handlers(asset) : {})}
                        onKeyDown={(e) => {
                          if (e.key === " " && onSelectedChange) {
                            e.preventDefault();
                            select(e, asset);
                          } else if (e.key === "Enter" || e.key === " ") {
                            e.preventDefault();
                            clickTile(e, asset, index);
                          }
                        }}
                        sx={{
                          position: "relative",
                          cursor: "pointer",
                          outline: isSelected ? "3px solid" : "none",
                          outlineColor: "primary.main",
                          outlineOffset: -3,
                          "&:focus-visible": {
                            outline: "3px solid",
                            outlineColor: "secondary.main",
                          },
                        }}
                      >
                        <Thumb asset={asset} size={tile} />
                        {caption && (
                          <Typography
                            variant="caption"
                            sx={{
                              position: "absolute",
                              left: 4,
                              bottom: 2,
                              color: "#fff",
                              textShadow: "0 0 3px #000",
                            }}
                          >
                            {caption(asset)}
                          </Typography>
                        )}
                      </Box>
                      {onSelectedChange && (
                        <IconButton
                          size="small"
                          className={"select-box" + (selecting ? " on" : "")}
                          aria-label={t("library.select", { name: asset.original_filename })}
                          aria-pressed={!!isSelected}
                          tabIndex={-1}
                          data-testid="select-circle"
                          onClick={(e) => select(e, asset)}
                          sx={{ position: "absolute", top: 2, left: 2, opacity: 0, color: "#fff" }}
                        >
                          {isSelected ? <CheckCircleIcon /> : <RadioButtonUncheckedIcon />}
                        </IconButton>
                      )}
                    </Box>
                  );
                })}
              </Box>
            );
          })}
        </Box>
        {isFetchingNextPage && (
          <Box sx={{ p: 2, textAlign: "center" }}>
            <CircularProgress size={24} aria-label={t("common.loading")} />
          </Box>
        )}
      </Box>
      {scrubber.length > 1 && (
        <Box
          component="nav"
          aria-label={t("library.years")}
          sx={{
            position: "sticky",
            top: 72,
            alignSelf: "flex-start",
            display: "flex",
            flexDirection: "column",
            px: 0.5,
          }}
        >
          {scrubber.map((year) => (
            <Typography
              key={year}
              component="button"
              variant="caption"
              onClick={() => goToYear(year)}
              sx={{
                border: 0,
                background: "none",
                color: "text.secondary",
                cursor: "pointer",
                py: 0.5,
              }}
            >
              {year}
            </Typography>
          ))}
        </Box>
      )}
    </Box>
  );
}
