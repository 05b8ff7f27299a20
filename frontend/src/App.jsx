import { lazy, Suspense } from "react";
import { BrowserRouter, Navigate, Route, Routes } from "react-router";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { CssBaseline, ThemeProvider } from "@mui/material";
import "./i18n/index.js";
import { theme } from "./theme.js";
import { AuthProvider, RequireAuth } from "./auth/AuthContext.jsx";
import Layout from "./components/Layout.jsx";
import Loading from "./components/Loading.jsx";
import SignIn from "./screens/SignIn.jsx";
import SignUp from "./screens/SignUp.jsx";
import Library from "./screens/Library.jsx";

const Trash = lazy(() => import("./screens/Trash.jsx"));
const Albums = lazy(() => import("./screens/Albums.jsx"));
const AlbumView = lazy(() => import("./screens/AlbumView.jsx"));
const Tags = lazy(() => import("./screens/Tags.jsx"));
const Shares = lazy(() => import("./screens/Shares.jsx"));
const Settings = lazy(() => import("./screens/Settings.jsx"));
const PublicShare = lazy(() => import("./screens/PublicShare.jsx"));
const ApiDocs = lazy(() => import("./screens/ApiDocs.jsx"));

const queryClient = new QueryClient({
  defaultOptions: {
    queries: {
      retry: (count, err) => count < 2 && !(err && err.status >= 400 && err.status < 500),
      refetchOnWindowFocus: false,
    },
  },
});

export default function App() {
  return (
    <ThemeProvider theme={theme} defaultMode="system">
      <CssBaseline />
      <QueryClientProvider client={queryClient}>
        <BrowserRouter>
          <AuthProvider>
            <Suspense fallback={<Loading />}>
              <Routes>
                <Route path="/login" element={<SignIn />} />
                <Route path="/register" element={<SignUp />} />
                <Route path="/s/:token" element={<PublicShare />} />
                <Route path="/api/docs" element={<ApiDocs />} />
                <Route
                  element={
                    <RequireAuth>
                      <Layout />
                    </RequireAuth>
                  }
                >
                  <Route path="/" element={<Library />} />
                  <Route path="/trash" element={<Trash />} />
                  <Route path="/albums" element={<Albums />} />
                  <Route path="/albums/:albumId" element={<AlbumView />} />
                  <Route path="/tags" element={<Tags />} />
                  <Route path="/tags/:tag" element={<Library />} />
                  <Route path="/shares" element={<Shares />} />
                  <Route path="/settings" element={<Settings />} />
                </Route>
                <Route path="*" element={<Navigate to="/" replace />} />
              </Routes>
            </Suspense>
          </AuthProvider>
        </BrowserRouter>
      </QueryClientProvider>
    </ThemeProvider>
  );
}
