// One grid tile: the BlurHash placeholder (or a neutral colour) at once, the
// thumbnail over it when it has loaded, a video badge with its length.
import { useState } from "react";
import { Box, Typography } from "@mui/material";
import PlayCircleIcon from "@mui/icons-material/PlayCircleOutlined";
import { formatDuration } from "../lib/format.js";
import { useAssetUrl } from "./media.js";
import { placeholderUrl } from "./placeholder.js";

export default function Thumb({ asset, size }) {
  // a share's visitor sees no media state: the thumbnail is simply asked for
  const ready = asset.thumb_status === undefined || asset.thumb_status === "ready";
  const { url } = useAssetUrl(asset, "thumb", ready);
  const [loaded, setLoaded] = useState(false);
  const placeholder = placeholderUrl(asset.placeholder);
  return (
    <Box
      sx={{
        width: size,
        height: size,
        position: "relative",
        overflow: "hidden",
        bgcolor: "action.hover",
        backgroundImage: placeholder ? `url(${placeholder})` : undefined,
        backgroundSize: "cover",
      }}
    >
      {url && (
        <img
          src={url}
          alt={asset.original_filename}
          loading="lazy"
          decoding="async"
          draggable={false}
          data-loaded={loaded ? "true" : "false"}
          onLoad={() => setLoaded(true)}
          style={{
            width: "100%",
            height: "100%",
            objectFit: "cover",
            opacity: loaded ? 1 : 0,
            transition: "opacity 150ms",
            display: "block",
          }}
        />
      )}
      {asset.type === "video" && (
        <Box
          sx={{
            position: "absolute",
            right: 4,
            bottom: 4,
            display: "flex",
            alignItems: "center",
            gap: 0.5,
            color: "#fff",
            textShadow: "0 0 3px #000",
          }}
        >
          <Typography variant="caption">
            {asset.duration_ms ? formatDuration(asset.duration_ms) : ""}
          </Typography>
          <PlayCircleIcon fontSize="small" />
        </Box>
      )}
    </Box>
  );
}
