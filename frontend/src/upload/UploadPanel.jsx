// Progress of the page's uploads: overall bytes, speed and time left, each file's
// state, failures with a retry button, duplicates reported.
import { useSyncExternalStore, useState } from "react";
import { useTranslation } from "react-i18next";
import {
  Box,
  Button,
  IconButton,
  LinearProgress,
  List,
  ListItem,
  ListItemText,
  Paper,
  Stack,
  Typography,
} from "@mui/material";
import CloseIcon from "@mui/icons-material/Close";
import ExpandLessIcon from "@mui/icons-material/ExpandLess";
import ExpandMoreIcon from "@mui/icons-material/ExpandMore";
import ReplayIcon from "@mui/icons-material/Replay";
import { errorText } from "../lib/errors.js";
import { formatBytes, formatTimeLeft } from "../lib/format.js";
import { getQueue } from "./manager.js";

/** A failure worth another try: a file that is neither photo nor video never is. */
function canRetry(item) {
  return item.status === "failed" && item.error !== "unsupported";
}

export default function UploadPanel({ onClose }) {
  const { t, i18n } = useTranslation();
  const queue = getQueue();
  const snap = useSyncExternalStore(queue.subscribe, queue.getSnapshot);
  const [open, setOpen] = useState(true);
  const percent = snap.total ? (100 * snap.sent) / snap.total : 0;
  const units = t("units", { returnObjects: true });
  const finished = snap.done + snap.duplicates + snap.failed;
  const shown = snap.items.filter((i) => i.status !== "done").slice(0, 200);
  const retryable = snap.items.filter(canRetry);

  return (
    <Paper
      elevation={8}
      role="region"
      aria-label={t("upload.title")}
      data-testid="upload-panel"
      sx={{
        position: "fixed",
        right: { xs: 8, sm: 16 },
        bottom: 16,
        width: { xs: "calc(100% - 16px)", sm: 400 },
        zIndex: 1300,
        p: 2,
      }}
    >
      <Stack direction="row" alignItems="center" spacing={1}>
        <Typography variant="subtitle1" sx={{ flex: 1 }} data-testid="upload-summary">
          {snap.active
            ? t("upload.progress", { done: finished, total: snap.items.length })
            : t("upload.finished", {
                done: snap.done,
                duplicates: snap.duplicates,
                failed: snap.failed,
              })}
        </Typography>
        <IconButton
          aria-label={open ? t("upload.collapse") : t("upload.expand")}
          onClick={() => setOpen(!open)}
        >
          {open ? <ExpandMoreIcon /> : <ExpandLessIcon />}
        </IconButton>
        {!snap.active && (
          <IconButton
            aria-label={t("common.close")}
            onClick={() => {
              queue.clearFinished();
              onClose();
            }}
          >
            <CloseIcon />
          </IconButton>
        )}
      </Stack>
      <LinearProgress variant="determinate" value={percent} aria-label={t("upload.title")} />
      {snap.active && (
        <Typography variant="caption" color="text.secondary">
          {formatBytes(snap.sent, i18n.language, units)} /{" "}
          {formatBytes(snap.total, i18n.language, units)}
          {" · "}
          {t("upload.speed", { speed: formatBytes(snap.speed, i18n.language, units) })}
          {snap.secondsLeft != null &&
            " · " + t("upload.timeLeft", { time: formatTimeLeft(snap.secondsLeft, i18n.language) })}
        </Typography>
      )}
      {open && (
        <List dense sx={{ maxHeight: 260, overflow: "auto" }}>
          {shown.map((item) => (
            <ListItem
              key={item.id}
              secondaryAction={
                canRetry(item) ? (
                  <IconButton
                    edge="end"
                    aria-label={t("upload.retry")}
                    onClick={() => queue.retry(item.id)}
                  >
                    <ReplayIcon />
                  </IconButton>
                ) : null
              }
            >
              <ListItemText
                primary={item.name}
                secondary={
                  <Box component="span">
                    {t("upload.status." + item.status)}
                    {item.error && item.error !== "unsupported"
                      ? ": " + errorText(t, { code: item.errorCode, message: item.error })
                      : ""}
                    {item.error === "unsupported" ? ": " + t("upload.unsupported") : ""}
                  </Box>
                }
                slotProps={{ primary: { noWrap: true } }}
              />
              {["uploading", "hashing"].includes(item.status) && (
                <LinearProgress
                  variant="determinate"
                  value={item.size ? (100 * item.sent) / item.size : 0}
                  sx={{ width: 60, ml: 1 }}
                />
              )}
            </ListItem>
          ))}
        </List>
      )}
      {retryable.length > 0 && !snap.active && (
        <Button size="small" onClick={() => retryable.forEach((i) => queue.retry(i.id))}>
          {t("upload.retryAll")}
        </Button>
      )}
    </Paper>
  );
}
