// The library (or one tag of it): filters, then the grid.
import { useState } from "react";
import { useParams } from "react-router";
import { useTranslation } from "react-i18next";
import { Box, Stack, ToggleButton, ToggleButtonGroup, Typography } from "@mui/material";
import { assets } from "../api/client.js";
import AssetBrowser from "../components/AssetBrowser.jsx";
import { useAssetList } from "../components/useAssetList.js";

const FILTERS = {
  all: {},
  photos: { type: "photo" },
  videos: { type: "video" },
  favorites: { favorite: true },
};

export default function Library() {
  const { t } = useTranslation();
  const { tag } = useParams();
  const [filter, setFilter] = useState("all");
  const params = { ...FILTERS[filter], tag };
  const list = useAssetList(["assets", "library", params], (cursor, limit) =>
    assets.list({ ...params, cursor, limit }),
  );
  return (
    <Box sx={{ p: { xs: 1, sm: 2 } }}>
      <Stack direction="row" alignItems="center" spacing={2} sx={{ mb: 1, flexWrap: "wrap" }}>
        <Typography variant="h5" component="h1" sx={{ flex: 1 }}>
          {tag ? t("tags.title", { tag }) : t("nav.library")}
        </Typography>
        <ToggleButtonGroup
          size="small"
          exclusive
          value={filter}
          onChange={(_, value) => value && setFilter(value)}
          aria-label={t("library.filter")}
        >
          {Object.keys(FILTERS).map((key) => (
            <ToggleButton key={key} value={key}>
              {t("library.filters." + key)}
            </ToggleButton>
          ))}
        </ToggleButtonGroup>
      </Stack>
      <AssetBrowser list={list} />
    </Box>
  );
}
