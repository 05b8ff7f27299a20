import { afterEach, describe, expect, it, vi } from "vitest";
import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { useQuery, QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { BrowserRouter, Route, Routes } from "react-router";
import "../i18n/index.js";
import { albums } from "../api/client.js";
import { AuthProvider, RequireAuth } from "./AuthContext.jsx";
import SignIn from "../screens/SignIn.jsx";

const user = { id: "u1", email: "a@example.com" };
const json = (status, body) =>
  new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
const unauthorized = () => json(401, { error: { code: "unauthorized", message: "no session" } });

/** A fake server: the refresh cookie works until `expire()`, sign-in starts a new one. */
function fakeServer() {
  const state = { live: true, token: "t1" };
  const fetch = vi.fn(async (path, init) => {
    const auth = init.headers.Authorization;
    if (path === "/api/v1/auth/refresh") {
      return state.live ? json(200, { user, access_token: state.token }) : unauthorized();
    }
    if (path === "/api/v1/auth/login") {
      state.live = true;
      state.token = "t2";
      return json(200, { user, access_token: state.token });
    }
    if (path === "/api/v1/albums") {
      return auth === "Bearer " + state.token
        ? json(200, { items: [{ id: "a1", title: "Holiday", asset_count: 0 }] })
        : unauthorized();
    }
    return json(404, { error: { code: "not_found", message: path } });
  });
  return {
    fetch,
    /** The session ends on the server: the access token and the cookie stop working. */
    expire() {
      state.live = false;
      state.token = "gone";
    },
  };
}

function AlbumsPage() {
  const list = useQuery({ queryKey: ["albums"], queryFn: albums.list, retry: false });
  return (
    <div>
      <h1>albums page</h1>
      {list.data?.items.map((a) => (
        <p key={a.id}>{a.title}</p>
      ))}
      <button onClick={() => list.refetch()}>reload albums</button>
    </div>
  );
}

function app() {
  return (
    <QueryClientProvider client={new QueryClient()}>
      <BrowserRouter>
        <AuthProvider>
          <Routes>
            <Route path="/login" element={<SignIn />} />
            <Route
              path="/albums"
              element={
                <RequireAuth>
                  <AlbumsPage />
                </RequireAuth>
              }
            />
          </Routes>
        </AuthProvider>
      </BrowserRouter>
    </QueryClientProvider>
  );
}

afterEach(() => {
  vi.unstubAllGlobals();
});

describe("a session that ends while the app is in use", () => {
  it("returns to sign-in, then back to the page the user was on", async () => {
    const server = fakeServer();
    vi.stubGlobal("fetch", server.fetch);
    window.history.pushState({}, "", "/albums?sort=new");
    render(app());
    expect(await screen.findByText("Holiday")).toBeInTheDocument();

    server.expire();
    await userEvent.click(screen.getByRole("button", { name: "reload albums" }));

    expect(await screen.findByRole("heading", { name: "Sign in" })).toBeInTheDocument();
    expect(window.location.pathname).toBe("/login");
    expect(new URLSearchParams(window.location.search).get("next")).toBe("/albums?sort=new");

    await userEvent.type(screen.getByLabelText(/email/i, { selector: "input" }), user.email);
    await userEvent.type(screen.getByLabelText(/password/i, { selector: "input" }), "pw");
    await userEvent.click(screen.getByRole("button", { name: "Sign in" }));

    expect(await screen.findByRole("heading", { name: "albums page" })).toBeInTheDocument();
    expect(window.location.pathname + window.location.search).toBe("/albums?sort=new");
    expect(await screen.findByText("Holiday")).toBeInTheDocument();
    const renewed = server.fetch.mock.calls.filter(
      ([path, init]) => path === "/api/v1/albums" && init.headers.Authorization === "Bearer t2",
    );
    expect(renewed.length).toBeGreaterThan(0);
  });
});
