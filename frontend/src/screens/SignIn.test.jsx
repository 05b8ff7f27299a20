import { describe, expect, it, vi } from "vitest";
import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { MemoryRouter, Route, Routes } from "react-router";
import "../i18n/index.js";
import SignIn from "./SignIn.jsx";

vi.mock("../auth/AuthContext.jsx", async (original) => {
  const real = await original();
  return { ...real, useAuth: () => ({ user: null, signIn: mockSignIn }) };
});
const mockSignIn = vi.fn();

describe("SignIn", () => {
  it("signs in and goes back to the page the user came from", async () => {
    mockSignIn.mockResolvedValueOnce();
    render(
      <MemoryRouter initialEntries={["/login?next=%2Ftrash"]}>
        <Routes>
          <Route path="/login" element={<SignIn />} />
          <Route path="/trash" element={<p>trash page</p>} />
        </Routes>
      </MemoryRouter>,
    );
    await userEvent.type(screen.getByLabelText(/email/i, { selector: "input" }), "a@example.com");
    await userEvent.type(
      screen.getByLabelText(/password/i, { selector: "input" }),
      "secret-password",
    );
    await userEvent.click(screen.getByRole("button", { name: "Sign in" }));
    expect(mockSignIn).toHaveBeenCalledWith("a@example.com", "secret-password");
    expect(await screen.findByText("trash page")).toBeInTheDocument();
  });

  it("shows the server's message when sign-in fails", async () => {
    mockSignIn.mockRejectedValueOnce(new Error("email or password is incorrect"));
    render(
      <MemoryRouter initialEntries={["/login"]}>
        <SignIn />
      </MemoryRouter>,
    );
    await userEvent.type(screen.getByLabelText(/email/i, { selector: "input" }), "a@example.com");
    await userEvent.type(screen.getByLabelText(/password/i, { selector: "input" }), "x");
    await userEvent.click(screen.getByRole("button", { name: "Sign in" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("email or password is incorrect");
  });

  it("refuses a next address outside the app", async () => {
    const { nextPath } = await vi.importActual("../auth/AuthContext.jsx");
    expect(nextPath("?next=//evil.example")).toBe("/");
    expect(nextPath("?next=https://evil.example")).toBe("/");
    expect(nextPath("?next=/albums/1")).toBe("/albums/1");
  });
});
