// The public page of a share link: works signed out; a password prompt first when the
// share has one (nothing about the share is shown before unlock), then the album's
// grid or the single asset, the viewer, and downloads when the owner allowed them.
import { useState } from "react";
import { useParams } from "react-router";
import { useTranslation } from "react-i18next";
import { useQuery } from "@tanstack/react-query";
import {
  Alert,
  Box,
  Button,
  ButtonBase,
  Container,
  Paper,
  Snackbar,
  Stack,
  TextField,
  Typography,
} from "@mui/material";
import { publicShare } from "../api/client.js";
import AssetGrid from "../components/AssetGrid.jsx";
import { downloadAll } from "../components/download.js";
import Loading from "../components/Loading.jsx";
import { hasPreview, MediaContext, shareSource, useAssetUrl } from "../components/media.js";
import { placeholderUrl } from "../components/placeholder.js";
import { useAssetList } from "../components/useAssetList.js";
import LanguageSelect from "../components/LanguageSelect.jsx";
import LazyViewer from "../viewer/LazyViewer.jsx";
import PlayCircleIcon from "@mui/icons-material/PlayCircleOutlined";
import { errorText } from "../lib/errors.js";

/** What the share answer says is locked: a password is needed first. */
export function needsPassword(err) {
  return !!err && err.status === 401 && err.code === "share_locked";
}

export default function PublicShare() {
  const { token } = useParams();
  const [session, setSession] = useState(null);
  const head = useQuery({
    queryKey: ["share", token, session],
    queryFn: () => publicShare.get(token, session),
    retry: false,
  });
  if (head.isLoading) return <Loading />;
  if (needsPassword(head.error)) return <Unlock token={token} onUnlocked={setSession} />;
  if (head.error) return <Unavailable />;
  return <ShareContent token={token} session={session} head={head.data} />;
}

function Frame({ children }) {
  return (
    <Container maxWidth="lg" sx={{ py: 3 }}>
      <Stack direction="row" alignItems="center" sx={{ mb: 2 }}>
        <Typography variant="h6" sx={{ flex: 1 }}>
          itcloud
        </Typography>
        <Box sx={{ width: 160 }}>
          <LanguageSelect />
        </Box>
      </Stack>
      {children}
    </Container>
  );
}

function Unavailable() {
  const { t } = useTranslation();
  return (
    <Frame>
      <Alert severity="warning" data-testid="share-unavailable">
        {t("share.unavailable")}
      </Alert>
    </Frame>
  );
}

function Unlock({ token, onUnlocked }) {
  const { t } = useTranslation();
  const [password, setPassword] = useState("");
  const [error, setError] = useState(null);
  return (
    <Frame>
      <Paper
        component="form"
        sx={{ p: 3, maxWidth: 400, mx: "auto" }}
        onSubmit={async (e) => {
          e.preventDefault();
          setError(null);
          try {
            const body = await publicShare.unlock(token, password);
            onUnlocked(body.share_session);
          } catch (err) {
            setError(err.status === 429 ? t("share.tooMany") : t("share.wrongPassword"));
          }
        }}
      >
        <Stack spacing={2}>
          <Typography variant="h6" component="h1">
            {t("share.locked")}
          </Typography>
          {error && <Alert severity="error">{error}</Alert>}
          <TextField
            label={t("share.password")}
            type="password"
            autoFocus
            value={password}
            onChange={(e) => setPassword(e.target.value)}
            slotProps={{ htmlInput: { "data-testid": "share-password" } }}
          />
          <Button type="submit" variant="contained">
            {t("share.unlock")}
          </Button>
        </Stack>
      </Paper>
    </Frame>
  );
}

function ShareContent({ token, session, head }) {
  const { t } = useTranslation();
  const allowDownload = head.share.allow_download;
  const source = shareSource(token, session, allowDownload);
  const [viewing, setViewing] = useState(null);
  const single = head.asset && !head.items;
  const list = useAssetList(
    ["share-assets", token, session],
    (cursor, limit) =>
      cursor ? publicShare.get(token, session, { cursor, limit }) : Promise.resolve(head),
    !single,
  );
  const items = single ? [head.asset] : list.items;
  const title = head.album?.title || head.asset?.original_filename || "";
  const [message, setMessage] = useState(null);
  const act = (action, targets) => {
    if (action !== "download") return;
    downloadAll(source, targets).catch((err) =>
      setMessage(
        err.code === "location_withheld" ? t("share.locationWithheld") : errorText(t, err),
      ),
    );
  };
  return (
    <MediaContext.Provider value={source}>
      <Frame>
        <Stack direction="row" alignItems="center" sx={{ mb: 2 }}>
          <Typography variant="h5" component="h1" sx={{ flex: 1 }} data-testid="share-title">
            {title}
          </Typography>
          {allowDownload && (
            <Button
              variant="outlined"
              onClick={() => act("download", items)}
              data-testid="share-download"
            >
              {t("actions.download")}
            </Button>
          )}
        </Stack>
        {single ? (
          <SingleAsset asset={head.asset} onOpen={() => setViewing(0)} />
        ) : (
          <AssetGrid list={list} onOpen={setViewing} />
        )}
        <LazyViewer
          items={items}
          viewing={viewing}
          onViewing={setViewing}
          onAction={act}
          actions={allowDownload ? ["download"] : []}
          more={single ? null : list}
        />
        <Snackbar
          open={!!message}
          autoHideDuration={6000}
          onClose={() => setMessage(null)}
          message={message}
        />
      </Frame>
    </MediaContext.Provider>
  );
}

/** A shared photo or video on its own: the large preview (a video's poster) over its
 * placeholder, which opens the viewer. Small photos have no preview; their thumbnail is
 * as large. */
function SingleAsset({ asset, onOpen }) {
  const video = asset.type === "video";
  const large = video || hasPreview(asset);
  const preview = useAssetUrl(asset, video ? "poster" : "preview", large);
  const thumb = useAssetUrl(asset, "thumb", !large || !!preview.error);
  const src = preview.url || thumb.url;
  const [painted, setPainted] = useState(false);
  const placeholder = !painted && placeholderUrl(asset.placeholder);
  return (
    <ButtonBase
      onClick={onOpen}
      aria-label={asset.original_filename}
      data-testid="share-asset"
      sx={{
        display: "flex",
        mx: "auto",
        width: "100%",
        height: { xs: "60vh", sm: "75vh" },
        bgcolor: "action.hover",
        backgroundImage: placeholder ? `url(${placeholder})` : undefined,
        backgroundSize: "contain",
        backgroundRepeat: "no-repeat",
        backgroundPosition: "center",
      }}
    >
      {src && (
        <Box
          component="img"
          src={src}
          alt={asset.original_filename}
          onLoad={() => setPainted(true)}
          sx={{ maxWidth: "100%", maxHeight: "100%", objectFit: "contain" }}
        />
      )}
      {video && (
        <PlayCircleIcon
          sx={{
            position: "absolute",
            fontSize: 96,
            color: "#fff",
            filter: "drop-shadow(0 0 4px #000)",
          }}
        />
      )}
    </ButtonBase>
  );
}
