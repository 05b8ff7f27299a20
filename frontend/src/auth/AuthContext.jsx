// Who is signed in. On start the app tries a silent refresh through the cookie; when a
// session ends (expired, signed out elsewhere) it returns to sign-in and comes back to
// the page the user was on afterwards.
import { createContext, useCallback, useContext, useEffect, useMemo, useState } from "react";
import { Navigate, useLocation, useNavigate } from "react-router";
import { useQueryClient } from "@tanstack/react-query";
import * as api from "../api/client.js";
import Loading from "../components/Loading.jsx";

const AuthContext = createContext(null);

export function AuthProvider({ children }) {
  const [state, setState] = useState({ loading: true, user: null });
  const navigate = useNavigate();
  const queryClient = useQueryClient();

  useEffect(() => {
    let live = true;
    api.refresh().then((body) => {
      if (live) setState({ loading: false, user: body ? body.user : null });
    });
    return () => {
      live = false;
    };
  }, []);

  useEffect(() => {
    api.setSessionExpiredHandler(() => {
      setState({ loading: false, user: null });
      const here = window.location.pathname + window.location.search;
      navigate("/login?next=" + encodeURIComponent(here), { replace: true });
    });
  }, [navigate]);

  const signIn = useCallback(async (email, password) => {
    const body = await api.auth.login(email, password);
    setState({ loading: false, user: body.user });
  }, []);

  const signOut = useCallback(
    async (everywhere) => {
      if (everywhere) await api.auth.logoutAll();
      else await api.auth.logout();
      queryClient.clear();
      setState({ loading: false, user: null });
      navigate("/login", { replace: true });
    },
    [navigate, queryClient],
  );

  const value = useMemo(() => ({ ...state, signIn, signOut }), [state, signIn, signOut]);
  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>;
}

export function useAuth() {
  return useContext(AuthContext);
}

/** Renders its children for a signed-in user, else sends them to sign-in. */
export function RequireAuth({ children }) {
  const { loading, user } = useAuth();
  const location = useLocation();
  if (loading) return <Loading />;
  if (!user) {
    const next = location.pathname + location.search;
    return <Navigate to={"/login?next=" + encodeURIComponent(next)} replace />;
  }
  return children;
}

/** Where to go after signing in: the `next` parameter when it is a path of this app. */
export function nextPath(search) {
  const next = new URLSearchParams(search).get("next");
  return next && next.startsWith("/") && !next.startsWith("//") ? next : "/";
}
