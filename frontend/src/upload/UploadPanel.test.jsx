import { describe, expect, it, vi } from "vitest";
import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import "../i18n/index.js";
import UploadPanel from "./UploadPanel.jsx";

const fakeQueue = { snapshot: null, retry: vi.fn(), clearFinished: vi.fn() };
vi.mock("./manager.js", () => ({ getQueue: () => fakeQueue }));

const item = (id, name, status, error = null, size = 1000, sent = 0) => ({
  id,
  name,
  status,
  error,
  size,
  sent,
});

function show(snapshot) {
  fakeQueue.snapshot = snapshot;
  fakeQueue.subscribe = () => () => {};
  fakeQueue.getSnapshot = () => fakeQueue.snapshot;
  fakeQueue.retry.mockClear();
  return render(<UploadPanel onClose={() => {}} />);
}

describe("UploadPanel", () => {
  it("shows speed and time left while uploading", () => {
    show({
      items: [item(1, "a.jpg", "uploading", null, 3000000, 1000000)],
      total: 3000000,
      sent: 1000000,
      speed: 500000,
      secondsLeft: 125,
      active: true,
      done: 0,
      duplicates: 0,
      failed: 0,
    });
    expect(screen.getByText(/1 MB \/ 3 MB · 500 KB\/s · 2 min 5 sec left/)).toBeInTheDocument();
  });

  it("lists failures with a retry button, except for files that are not media", async () => {
    show({
      items: [
        { ...item(1, "a.jpg", "failed", "storage answered 503"), errorCode: "put_failed" },
        item(2, "notes.txt", "failed", "unsupported"),
        item(3, "b.jpg", "duplicate"),
      ],
      total: 3000,
      sent: 0,
      speed: 0,
      secondsLeft: null,
      active: false,
      done: 0,
      duplicates: 1,
      failed: 2,
    });
    expect(screen.getByText("Uploaded 0, duplicates 1, failed 2")).toBeInTheDocument();
    expect(screen.getByText(/storage answered 503/)).toBeInTheDocument();
    const retries = screen.getAllByRole("button", { name: "Retry" });
    expect(retries).toHaveLength(1);
    await userEvent.click(retries[0]);
    expect(fakeQueue.retry).toHaveBeenCalledWith(1);
    await userEvent.click(screen.getByRole("button", { name: "Retry failed" }));
    expect(fakeQueue.retry.mock.calls).toEqual([[1], [1]]);
  });
});
