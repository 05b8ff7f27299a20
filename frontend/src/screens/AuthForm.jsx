// The shared frame of the sign-in and sign-up pages.
import {
  Alert,
  Box,
  Button,
  Container,
  Link,
  Paper,
  Stack,
  TextField,
  Typography,
} from "@mui/material";
import { Link as RouterLink } from "react-router";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import LanguageSelect from "../components/LanguageSelect.jsx";
import { errorText } from "../lib/errors.js";

/** `newPassword` marks the password as one being chosen (sign-up), for password managers. */
export default function AuthForm({
  title,
  submitLabel,
  onSubmit,
  footer,
  footerLink,
  footerTo,
  newPassword = false,
}) {
  const { t } = useTranslation();
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);

  async function submit(event) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await onSubmit(email, password);
    } catch (err) {
      setError(errorText(t, err));
      setBusy(false);
    }
  }

  return (
    <Container maxWidth="xs" sx={{ py: 8 }}>
      <Paper component="form" onSubmit={submit} sx={{ p: 4 }} elevation={3}>
        <Stack spacing={2}>
          <Typography variant="h4" component="h1">
            itcloud
          </Typography>
          <Typography variant="h6" component="h2">
            {title}
          </Typography>
          {error && <Alert severity="error">{error}</Alert>}
          <TextField
            label={t("auth.email")}
            type="email"
            name="email"
            autoComplete="email"
            required
            value={email}
            onChange={(e) => setEmail(e.target.value)}
          />
          <TextField
            label={t("auth.password")}
            type="password"
            name="password"
            autoComplete={newPassword ? "new-password" : "current-password"}
            required
            value={password}
            onChange={(e) => setPassword(e.target.value)}
          />
          <Button type="submit" variant="contained" disabled={busy}>
            {submitLabel}
          </Button>
          <Box>
            {footer}{" "}
            <Link component={RouterLink} to={footerTo}>
              {footerLink}
            </Link>
          </Box>
          <LanguageSelect />
        </Stack>
      </Paper>
    </Container>
  );
}
