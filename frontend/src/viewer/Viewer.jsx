// The full-screen viewer: arrows, keyboard and swipe (photos and videos) to move; wheel,
// pinch, double-click or + and - to zoom a photo (the preview first, the original once
// zoomed), drag to pan; videos streamed with seeking, an info panel (the location linked
// to a map), and the asset's actions. Keys: i the info panel, f favourite, Delete trash.
import { useEffect, useRef, useState } from "react";
import { useTranslation } from "react-i18next";
import {
  Box,
  Dialog,
  Divider,
  IconButton,
  Link,
  List,
  ListItem,
  ListItemText,
  Toolbar,
  Tooltip,
  Typography,
} from "@mui/material";
import ArrowBackIcon from "@mui/icons-material/ArrowBack";
import ChevronLeftIcon from "@mui/icons-material/ChevronLeft";
import ChevronRightIcon from "@mui/icons-material/ChevronRight";
import DeleteIcon from "@mui/icons-material/Delete";
import DeleteForeverIcon from "@mui/icons-material/DeleteForever";
import DownloadIcon from "@mui/icons-material/Download";
import FavoriteIcon from "@mui/icons-material/Favorite";
import FavoriteBorderIcon from "@mui/icons-material/FavoriteBorder";
import InfoIcon from "@mui/icons-material/InfoOutlined";
import LibraryAddIcon from "@mui/icons-material/LibraryAdd";
import RestoreFromTrashIcon from "@mui/icons-material/RestoreFromTrash";
import ShareIcon from "@mui/icons-material/Share";
import ZoomInIcon from "@mui/icons-material/ZoomIn";
import ZoomOutIcon from "@mui/icons-material/ZoomOut";
import {
  assetDate,
  formatBytes,
  formatDateTime,
  formatDuration,
  formatNumber,
  formatUnit,
} from "../lib/format.js";
import { hasPreview, useAssetUrl } from "../components/media.js";
import { placeholderUrl } from "../components/placeholder.js";
import { clampScale, swipeDirection, zoomAt } from "./zoom.js";

const OWNER_ACTIONS = ["download", "favorite", "addToAlbum", "share", "trash"];

export default function Viewer({
  items,
  index,
  onIndex,
  onClose,
  onAction,
  actions = OWNER_ACTIONS,
  hasMore,
  loadMore,
}) {
  const { t } = useTranslation();
  const asset = items[index];
  const [info, setInfo] = useState(false);
  const go = (delta) => {
    const next = index + delta;
    if (next >= 0 && next < items.length) onIndex(next);
    if (delta > 0 && next >= items.length - 3 && hasMore) loadMore();
  };
  /** Runs one of this viewer's actions on the asset shown (keyboard shortcuts). */
  const shortcut = (action) => {
    if (actions.includes(action)) onAction(action, [asset]);
  };
  const goRef = useRef(go);
  const shortcutRef = useRef(shortcut);
  useEffect(() => {
    goRef.current = go;
    shortcutRef.current = shortcut;
  });

  useEffect(() => {
    const key = (e) => {
      if (e.target instanceof HTMLInputElement) return;
      if (e.key === "ArrowRight") goRef.current(1);
      else if (e.key === "ArrowLeft") goRef.current(-1);
      else if (e.key === "i") setInfo((v) => !v);
      else if (e.key === "f") shortcutRef.current("favorite");
      else if (e.key === "Delete") shortcutRef.current("trash");
    };
    window.addEventListener("keydown", key);
    return () => window.removeEventListener("keydown", key);
  }, []);

  const labels = {
    download: [t("actions.download"), <DownloadIcon key="i" />],
    favorite: [
      t("actions.favorite"),
      asset.favorite ? <FavoriteIcon key="i" /> : <FavoriteBorderIcon key="i" />,
    ],
    addToAlbum: [t("actions.addToAlbum"), <LibraryAddIcon key="i" />],
    share: [t("actions.share"), <ShareIcon key="i" />],
    trash: [t("actions.trash"), <DeleteIcon key="i" />],
    restore: [t("trash.restore"), <RestoreFromTrashIcon key="i" />],
    purge: [t("trash.deleteForever"), <DeleteForeverIcon key="i" />],
  };

  return (
    <Dialog
      fullScreen
      open
      onClose={onClose}
      aria-label={asset.original_filename}
      data-testid="viewer"
    >
      <Box
        sx={{
          display: "flex",
          flexDirection: "column",
          height: "100%",
          bgcolor: "#000",
          color: "#fff",
        }}
      >
        <Toolbar variant="dense" sx={{ gap: 1 }}>
          <IconButton color="inherit" edge="start" aria-label={t("common.close")} onClick={onClose}>
            <ArrowBackIcon />
          </IconButton>
          {/* a phone's toolbar is all actions: the name is in the info panel */}
          <Typography
            noWrap
            sx={{ flex: 1, visibility: { xs: "hidden", sm: "visible" } }}
            data-testid="viewer-title"
          >
            {asset.original_filename}
          </Typography>
          {actions.map((action) => (
            <Tooltip key={action} title={labels[action][0]}>
              <IconButton
                color="inherit"
                aria-label={labels[action][0]}
                onClick={() => onAction(action, [asset])}
              >
                {labels[action][1]}
              </IconButton>
            </Tooltip>
          ))}
          <Tooltip title={t("viewer.info")}>
            <IconButton
              color="inherit"
              aria-label={t("viewer.info")}
              onClick={() => setInfo((v) => !v)}
            >
              <InfoIcon />
            </IconButton>
          </Tooltip>
        </Toolbar>
        <Box sx={{ flex: 1, position: "relative", minHeight: 0, display: "flex" }}>
          <Box sx={{ flex: 1, position: "relative", overflow: "hidden" }}>
            {asset.type === "video" ? (
              <VideoStage key={asset.id} asset={asset} onSwipe={go} />
            ) : (
              <PhotoStage key={asset.id} asset={asset} onSwipe={go} />
            )}
            {index > 0 && (
              <IconButton
                aria-label={t("viewer.previous")}
                onClick={() => go(-1)}
                sx={{
                  position: "absolute",
                  left: 8,
                  top: "50%",
                  color: "#fff",
                  bgcolor: "rgba(0,0,0,0.4)",
                }}
              >
                <ChevronLeftIcon fontSize="large" />
              </IconButton>
            )}
            {(index < items.length - 1 || hasMore) && (
              <IconButton
                aria-label={t("viewer.next")}
                onClick={() => go(1)}
                sx={{
                  position: "absolute",
                  right: 8,
                  top: "50%",
                  color: "#fff",
                  bgcolor: "rgba(0,0,0,0.4)",
                }}
              >
                <ChevronRightIcon fontSize="large" />
              </IconButton>
            )}
          </Box>
          {info && (
            <Box
              sx={{
                width: { xs: "100%", sm: 300 },
                position: { xs: "absolute", sm: "static" },
                inset: 0,
                overflow: "auto",
                bgcolor: "background.paper",
                color: "text.primary",
              }}
            >
              <InfoPanel asset={asset} />
            </Box>
          )}
        </Box>
      </Box>
    </Dialog>
  );
}

function PhotoStage({ asset, onSwipe }) {
  const { t } = useTranslation();
  const [view, setView] = useState({ scale: 1, x: 0, y: 0 });
  const [painted, setPainted] = useState(false);
  const zoomed = view.scale > 1;
  const big = hasPreview(asset);
  const preview = useAssetUrl(asset, "preview", big);
  const thumb = useAssetUrl(asset, "thumb");
  const full = zoomed || !big || !!preview.error;
  const original = useAssetUrl(asset, "stream", full);
  const src = (full ? original.url : null) || preview.url || thumb.url;
  const frame = useRef(null);
  const pointers = useRef(new Map());
  const gesture = useRef(null);

  const point = (e) => {
    const r = frame.current.getBoundingClientRect();
    return [e.clientX - r.left - r.width / 2, e.clientY - r.top - r.height / 2];
  };

  useEffect(() => {
    const node = frame.current;
    const wheel = (e) => {
      e.preventDefault();
      const [px, py] = point(e);
      setView((v) => zoomAt(v, e.deltaY < 0 ? 1.2 : 1 / 1.2, px, py));
    };
    // + and - zoom about the centre, 0 goes back to the whole photo
    const key = (e) => {
      if (e.key === "+" || e.key === "=") setView((v) => zoomAt(v, 1.5, 0, 0));
      else if (e.key === "-") setView((v) => zoomAt(v, 1 / 1.5, 0, 0));
      else if (e.key === "0") setView({ scale: 1, x: 0, y: 0 });
    };
    node.addEventListener("wheel", wheel, { passive: false });
    window.addEventListener("keydown", key);
    return () => {
      node.removeEventListener("wheel", wheel);
      window.removeEventListener("keydown", key);
    };
  }, []);

  function down(e) {
    frame.current.setPointerCapture(e.pointerId);
    pointers.current.set(e.pointerId, [e.clientX, e.clientY]);
    const pts = [...pointers.current.values()];
    gesture.current =
      pts.length === 2
        ? { pinch: Math.hypot(pts[0][0] - pts[1][0], pts[0][1] - pts[1][1]), view }
        : { start: [e.clientX, e.clientY], view };
  }
  function move(e) {
    if (!pointers.current.has(e.pointerId) || !gesture.current) return;
    pointers.current.set(e.pointerId, [e.clientX, e.clientY]);
    const g = gesture.current;
    const pts = [...pointers.current.values()];
    if (g.pinch && pts.length === 2) {
      const d = Math.hypot(pts[0][0] - pts[1][0], pts[0][1] - pts[1][1]);
      setView({ ...g.view, scale: clampScale((g.view.scale * d) / g.pinch) });
    } else if (g.start && g.view.scale > 1) {
      setView({
        ...g.view,
        x: g.view.x + e.clientX - g.start[0],
        y: g.view.y + e.clientY - g.start[1],
      });
    }
  }
  function up(e) {
    const g = gesture.current;
    pointers.current.delete(e.pointerId);
    if (g && g.start && g.view.scale === 1 && pointers.current.size === 0) {
      const dir = swipeDirection(e.clientX - g.start[0], e.clientY - g.start[1]);
      if (dir) onSwipe(dir);
    }
    if (pointers.current.size === 0) gesture.current = null;
  }

  return (
    <Box
      ref={frame}
      onPointerDown={down}
      onPointerMove={move}
      onPointerUp={up}
      onPointerCancel={up}
      onDoubleClick={(e) => {
        const [px, py] = point(e);
        setView((v) => (v.scale > 1 ? { scale: 1, x: 0, y: 0 } : zoomAt(v, 2.5, px, py)));
      }}
      sx={{
        position: "absolute",
        inset: 0,
        touchAction: "none",
        cursor: zoomed ? "grab" : "zoom-in",
        display: "flex",
        alignItems: "center",
        justifyContent: "center",
        // the placeholder until the first picture has loaded
        backgroundImage:
          !painted && placeholderUrl(asset.placeholder)
            ? `url(${placeholderUrl(asset.placeholder)})`
            : undefined,
        backgroundSize: "contain",
        backgroundRepeat: "no-repeat",
        backgroundPosition: "center",
      }}
    >
      {src && (
        <img
          src={src}
          alt={asset.original_filename}
          data-testid="viewer-image"
          draggable={false}
          onLoad={() => setPainted(true)}
          style={{
            maxWidth: "100%",
            maxHeight: "100%",
            transform: `translate(${view.x}px, ${view.y}px) scale(${view.scale})`,
            transformOrigin: "center",
            userSelect: "none",
          }}
        />
      )}
      <Box sx={{ position: "absolute", bottom: 8, right: 8, display: "flex" }}>
        <IconButton
          aria-label={t("viewer.zoomOut")}
          sx={{ color: "#fff" }}
          onClick={() => setView((v) => zoomAt(v, 1 / 1.5, 0, 0))}
        >
          <ZoomOutIcon />
        </IconButton>
        <IconButton
          aria-label={t("viewer.zoomIn")}
          sx={{ color: "#fff" }}
          onClick={() => setView((v) => zoomAt(v, 1.5, 0, 0))}
        >
          <ZoomInIcon />
        </IconButton>
      </Box>
    </Box>
  );
}

/** Bottom band of a video left to its controls: a drag there seeks, never swipes. */
const VIDEO_CONTROLS_PX = 72;

function VideoStage({ asset, onSwipe }) {
  const stream = useAssetUrl(asset, "stream");
  const poster = useAssetUrl(asset, "poster");
  const start = useRef(null);
  return (
    <Box
      onTouchStart={(e) => {
        const touch = e.touches[0];
        const r = e.currentTarget.getBoundingClientRect();
        start.current =
          e.touches.length === 1 && touch.clientY < r.bottom - VIDEO_CONTROLS_PX
            ? [touch.clientX, touch.clientY]
            : null;
      }}
      onTouchEnd={(e) => {
        const touch = e.changedTouches[0];
        const from = start.current;
        start.current = null;
        if (!from) return;
        const dir = swipeDirection(touch.clientX - from[0], touch.clientY - from[1]);
        if (dir) onSwipe(dir);
      }}
      sx={{
        position: "absolute",
        inset: 0,
        display: "flex",
        alignItems: "center",
        justifyContent: "center",
      }}
    >
      {stream.url && (
        <video
          src={stream.url}
          poster={poster.url || undefined}
          controls
          autoPlay
          playsInline
          preload="metadata"
          data-testid="viewer-video"
          style={{ maxWidth: "100%", maxHeight: "100%" }}
        />
      )}
      {stream.error && <Unplayable error={stream.error} poster={poster.url} />}
    </Box>
  );
}

/** Why a video cannot play (a share whose owner offers no downloads, or withholds the
 * location its file holds), over its poster. */
function Unplayable({ error, poster }) {
  const { t } = useTranslation();
  const reason =
    error.code === "location_withheld"
      ? t("viewer.locationWithheld")
      : error.code === "download_not_allowed"
        ? t("viewer.notPlayable")
        : error.message;
  return (
    <Box sx={{ textAlign: "center", maxWidth: "100%", maxHeight: "100%" }}>
      {poster && <img src={poster} alt="" style={{ maxWidth: "100%", maxHeight: "70vh" }} />}
      <Typography sx={{ p: 2 }} role="status">
        {reason}
      </Typography>
    </Box>
  );
}

/** The coordinates, linked to the place on OpenStreetMap; null without GPS. */
function location(asset, mapLabel) {
  const lat = asset.gps_latitude;
  const lon = asset.gps_longitude;
  if (lat == null || lon == null) return null;
  const text = `${lat.toFixed(5)}, ${lon.toFixed(5)}`;
  const href = `https://www.openstreetmap.org/?mlat=${lat}&mlon=${lon}#map=15/${lat}/${lon}`;
  return (
    <Link href={href} target="_blank" rel="noopener noreferrer" aria-label={`${text}, ${mapLabel}`}>
      {text}
    </Link>
  );
}

function InfoPanel({ asset }) {
  const { t, i18n } = useTranslation();
  const units = t("units", { returnObjects: true });
  const rows = [
    [t("info.date"), formatDateTime(assetDate(asset), i18n.language)],
    [t("info.file"), asset.original_filename],
    [t("info.size"), formatBytes(asset.size_bytes, i18n.language, units)],
    [t("info.dimensions"), asset.width && asset.height ? `${asset.width} × ${asset.height}` : null],
    [t("info.duration"), asset.duration_ms ? formatDuration(asset.duration_ms) : null],
    [t("info.camera"), [asset.camera_make, asset.camera_model].filter(Boolean).join(" ") || null],
    [t("info.lens"), asset.lens_model],
    [
      t("info.exposure"),
      [
        asset.exposure_time && t("info.seconds", { value: asset.exposure_time }),
        asset.f_number && `ƒ/${formatNumber(asset.f_number, i18n.language)}`,
        asset.iso && `ISO ${asset.iso}`,
        asset.focal_length && formatUnit(asset.focal_length, "millimeter", i18n.language),
      ]
        .filter(Boolean)
        .join(" · ") || null,
    ],
    [t("info.location"), location(asset, t("info.map"))],
  ].filter(([, value]) => value);
  return (
    <Box sx={{ p: 2 }} data-testid="info-panel">
      <Typography variant="h6">{t("viewer.info")}</Typography>
      <Divider />
      <List dense>
        {rows.map(([label, value]) => (
          <ListItem key={label} disableGutters>
            <ListItemText primary={value} secondary={label} />
          </ListItem>
        ))}
      </List>
    </Box>
  );
}
