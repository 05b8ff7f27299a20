// End-to-end test of the web app: a real `itcloud serve` (with its worker) on a free
// port, the built app from static/, Debian's Chromium driven by playwright-core.
// Prints TAP; screenshots of each main screen go to E2E_ARTIFACTS (default:
// build/e2e/<backend> in the repository).
//
//   node e2e/run.mjs          (from frontend/, after `make`)
//
// Storage follows the environment: STORAGE_BACKEND=s3 with the S3_* variables sends
// the browser's uploads straight to that server with pre-signed URLs.
import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, mkdirSync, rmSync, readFileSync, statSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { launchChromium } from "./chromium.mjs";

const ROOT = resolve(import.meta.dirname, "../..");
const BACKEND = process.env.STORAGE_BACKEND || "local";
const ARTIFACTS = process.env.E2E_ARTIFACTS || join(ROOT, "build", "e2e", BACKEND);
const BIN = resolve(ROOT, process.env.ITCLOUD_BIN || "bin/itcloud");
const PHOTOS = 120;
const VIDEOS = 2;
const WAIT = { timeout: 60000 };

// --- TAP ------------------------------------------------------------------------------

let number = 0;
let broken = null;
const hasShares = { value: true };

/** Runs one step; after a failure the remaining steps are reported as not run. */
async function step(name, fn, { needsShares = false } = {}) {
  number++;
  if (needsShares && !hasShares.value) {
    console.log(`# skip ${number} - ${name}: this server has no share API`);
    return;
  }
  if (broken) {
    console.log(`not ok ${number} - ${name} # not run: "${broken}" failed`);
    return;
  }
  try {
    await fn();
    console.log(`ok ${number} - ${name}`);
  } catch (err) {
    broken = name;
    console.log(`not ok ${number} - ${name}`);
    if (step.page) await shot(step.page, "failed").catch(() => {});
    for (const line of String(err && err.stack ? err.stack : err)
      .split("\n")
      .slice(0, 12)) {
      console.log("# " + line);
    }
  }
}

function check(condition, message) {
  if (!condition) throw new Error(message);
}

// --- fixtures and the server ----------------------------------------------------------

function freePort() {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => res(port));
    });
    srv.on("error", rej);
  });
}

/** 120 distinct small JPEGs (ffmpeg's test pattern has a frame counter) and 2 videos. */
function makeMedia(dir) {
  const ff = (args) => execFileSync("ffmpeg", ["-v", "error", "-y", ...args], { stdio: "inherit" });
  ff([
    "-f",
    "lavfi",
    "-i",
    "testsrc=size=320x240:rate=1",
    "-frames:v",
    String(PHOTOS),
    "-q:v",
    "5",
    join(dir, "photo-%03d.jpg"),
  ]);
  const photos = Array.from({ length: PHOTOS }, (_, i) =>
    join(dir, `photo-${String(i + 1).padStart(3, "0")}.jpg`),
  );
  const videos = [];
  for (let i = 1; i <= VIDEOS; i++) {
    const path = join(dir, `clip-${i}.mp4`);
    ff([
      "-f",
      "lavfi",
      "-i",
      `testsrc2=duration=3:size=320x240:rate=15`,
      "-vf",
      `hue=h=${i * 90}`,
      "-pix_fmt",
      "yuv420p",
      "-c:v",
      "libx264",
      "-preset",
      "ultrafast",
      path,
    ]);
    videos.push(path);
  }
  return { photos, videos };
}

async function startServer(dir) {
  const port = await freePort();
  const env = {
    ...process.env,
    APP_ENV: "test",
    PORT: String(port),
    DATA_DIR: dir,
    DATABASE_URL: `sqlite:${dir}/itcloud.db`,
    STATIC_DIR: join(ROOT, "static"),
    LUA_DIR: join(ROOT, "lua"),
    CONFIG_DIR: join(ROOT, "config"),
    MIGRATIONS_DIR: join(ROOT, "migrations"),
    WORKER_PROCESSES: "2",
    LOG_LEVEL: "warn",
  };
  const log = join(dir, "server.log");
  const child = spawn("sh", ["-c", `exec "${BIN}" serve >"${log}" 2>&1`], { env, stdio: "ignore" });
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 100; i++) {
    try {
      if ((await fetch(base + "/readyz")).ok) return { child, base, log };
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error("server did not start: " + readFileSync(log, "utf8").slice(-2000));
}

// --- helpers on pages -----------------------------------------------------------------

async function shot(page, name) {
  await page.screenshot({ path: join(ARTIFACTS, name + ".png") });
}

/** Scrolls through the whole grid; returns the ids whose thumbnails painted, and the
 * largest number of DOM nodes seen on the way. */
async function scrollGrid(page, expected) {
  const seen = new Set();
  let maxNodes = 0;
  await page.evaluate(() => window.scrollTo(0, 0));
  for (let guard = 0; guard < 400; guard++) {
    await page
      .waitForFunction(
        () =>
          [...document.querySelectorAll('[data-testid="tile"]')].every((t) => {
            const r = t.getBoundingClientRect();
            if (r.bottom < 0 || r.top > window.innerHeight) return true;
            return t.querySelector('img[data-loaded="true"]');
          }),
        null,
        { timeout: 60000 },
      )
      .catch(() => {});
    const state = await page.evaluate(() => ({
      loaded: [...document.querySelectorAll('[data-testid="tile"]')]
        .filter((t) => t.querySelector('img[data-loaded="true"]'))
        .map((t) => t.dataset.assetId),
      nodes: document.getElementsByTagName("*").length,
      atEnd: window.scrollY + window.innerHeight >= document.documentElement.scrollHeight - 2,
    }));
    state.loaded.forEach((id) => seen.add(id));
    maxNodes = Math.max(maxNodes, state.nodes);
    if (seen.size >= expected || state.atEnd) break;
    await page.evaluate(() => window.scrollBy(0, window.innerHeight * 0.8));
    await page.waitForTimeout(50);
  }
  await page.evaluate(() => window.scrollTo(0, 0));
  return { seen, maxNodes };
}

/** Waits until the image `selector` names has loaded and has pixels. */
function imagePainted(page, selector) {
  return page.waitForFunction(
    (sel) => {
      const img = document.querySelector(sel);
      return img && img.complete && img.naturalWidth > 0;
    },
    selector,
    WAIT,
  );
}

/** Drops a file from disk anywhere on the page, as a drag from the desktop does. */
async function dropFile(page, path) {
  const bytes = readFileSync(path).toString("base64");
  const name = path.split("/").pop();
  const transfer = await page.evaluateHandle(
    ([b64, fileName]) => {
      const data = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
      const dt = new DataTransfer();
      dt.items.add(new File([data], fileName, { type: "image/jpeg" }));
      return dt;
    },
    [bytes, name],
  );
  await page.dispatchEvent("main", "dragenter", { dataTransfer: transfer });
  await page.getByText("Drop photos and videos to upload").waitFor(WAIT);
  await page.dispatchEvent("main", "dragover", { dataTransfer: transfer });
  await page.dispatchEvent("main", "drop", { dataTransfer: transfer });
}

// --- the flow ---------------------------------------------------------------------------

async function main() {
  mkdirSync(ARTIFACTS, { recursive: true });
  const work = mkdtempSync(join(tmpdir(), "itcloud-e2e-"));
  const media = makeMedia(work);
  const dataDir = join(work, "data");
  mkdirSync(dataDir);
  const server = await startServer(dataDir);
  const browser = await launchChromium();
  const email = `e2e-${Date.now()}@example.com`;
  const password = "correct horse battery staple";
  const sharePassword = "open sesame 42";
  let link = null;
  let owner;
  let page;
  let guest;

  try {
    console.log(`# backend ${BACKEND}, server ${server.base}, screenshots in ${ARTIFACTS}`);
    hasShares.value = (await fetch(server.base + "/api/v1/shares")).status !== 404;

    await step("sign up and land in an empty library", async () => {
      owner = await browser.newContext({ locale: "en-US", viewport: { width: 1280, height: 800 } });
      page = await owner.newPage();
      step.page = page;
      page.on("console", (m) => m.type() === "error" && console.log("# console: " + m.text()));
      page.on("pageerror", (e) => console.log("# page error: " + e.message));
      await page.goto(server.base + "/register");
      await page.getByLabel("Email").fill(email);
      await page.getByLabel("Password").fill(password);
      await page.getByRole("button", { name: "Create account" }).click();
      await page.getByTestId("empty").waitFor(WAIT);
    });

    await step(`upload ${PHOTOS} photos and ${VIDEOS} videos from files`, async () => {
      await page.getByTestId("upload-input").setInputFiles([...media.photos, ...media.videos]);
      await page.getByTestId("upload-panel").waitFor(WAIT);
      await shot(page, "upload");
      await page
        .getByTestId("upload-summary")
        .filter({ hasText: `Uploaded ${PHOTOS + VIDEOS}, duplicates 0, failed 0` })
        .waitFor({ timeout: 180000 });
    });

    await step("the same file dropped on the page is reported as a duplicate", async () => {
      await dropFile(page, media.photos[0]);
      await page
        .getByTestId("upload-summary")
        .filter({ hasText: "duplicates 1" })
        .waitFor({ timeout: 60000 });
      await page.getByRole("button", { name: "Close" }).click();
    });

    await step("every thumbnail shows, with few DOM nodes", async () => {
      await page.getByTestId("tile").first().waitFor(WAIT);
      const { seen, maxNodes } = await scrollGrid(page, PHOTOS + VIDEOS);
      check(seen.size === PHOTOS + VIDEOS, `thumbnails painted: ${seen.size}`);
      check(maxNodes < 2000, `DOM nodes: ${maxNodes}`);
      console.log(`# ${seen.size} thumbnails painted, at most ${maxNodes} DOM nodes`);
      await shot(page, "library");
    });

    await step("open the viewer and step through with the keyboard", async () => {
      await page.getByRole("button", { name: "Photos" }).click();
      await page.waitForFunction(
        () => !document.querySelector('[data-testid="tile"][data-type="video"]'),
      );
      await page.getByTestId("tile").nth(1).click();
      const viewer = page.getByTestId("viewer");
      await viewer.waitFor(WAIT);
      await imagePainted(page, '[data-testid="viewer-image"]');
      const first = await page.getByTestId("viewer-title").textContent();
      await page.keyboard.press("ArrowRight");
      await page.waitForFunction(
        (t) => document.querySelector('[data-testid="viewer-title"]').textContent !== t,
        first,
        WAIT,
      );
      await page.keyboard.press("ArrowLeft");
      await page.getByTestId("viewer-title").filter({ hasText: first }).waitFor(WAIT);
      await page.getByRole("button", { name: "Info" }).click();
      await page.getByTestId("info-panel").getByText("320 × 240").waitFor(WAIT);
      await shot(page, "viewer");
      await page.keyboard.press("Escape");
      await viewer.waitFor({ state: "detached" });
    });

    await step("play a video", async () => {
      await page.getByRole("button", { name: "Videos" }).click();
      await page.waitForFunction(
        () => document.querySelectorAll('[data-testid="tile"]').length === 2,
      );
      await page.getByTestId("tile").first().click();
      const video = page.getByTestId("viewer-video");
      await video.waitFor(WAIT);
      await page.waitForFunction(
        () => {
          const v = document.querySelector('[data-testid="viewer-video"]');
          if (v && v.paused) v.play().catch(() => {});
          return v && v.currentTime > 0.3;
        },
        null,
        WAIT,
      );
      await shot(page, "video");
      await page.keyboard.press("Escape");
      await page.getByRole("button", { name: "All" }).click();
    });

    await step("select three with a shift-click range and move them to the trash", async () => {
      const tiles = page.getByTestId("tile");
      await tiles.nth(0).hover();
      await page.getByTestId("select-circle").nth(0).click();
      await tiles.nth(2).click({ modifiers: ["Shift"] });
      await page.getByTestId("selection-count").filter({ hasText: "3 selected" }).waitFor(WAIT);
      await page.getByRole("button", { name: "Move to trash" }).click();
      await page.getByText("3 items moved to the trash").waitFor(WAIT);
      await page.getByRole("link", { name: "Trash" }).click();
      await page.waitForFunction(
        () => document.querySelectorAll('[data-testid="tile"]').length === 3,
        null,
        WAIT,
      );
      await page.getByText("30 days left").first().waitFor(WAIT);
      await shot(page, "trash");
    });

    await step("open one in the trash and restore it from the viewer", async () => {
      await page.getByTestId("tile").first().click();
      await page.getByTestId("viewer").getByRole("button", { name: "Restore" }).click();
      await page.getByTestId("viewer").waitFor({ state: "detached" });
      await page.waitForFunction(
        () => document.querySelectorAll('[data-testid="tile"]').length === 2,
        null,
        WAIT,
      );
    });

    await step("empty the trash", async () => {
      await page.getByRole("button", { name: "Empty trash" }).click();
      await page.getByRole("dialog").getByRole("button", { name: "Delete forever" }).click();
      await page.getByText("The trash is empty.").waitFor(WAIT);
      await page.getByRole("link", { name: "Library" }).click();
      await page.getByTestId("tile").first().waitFor(WAIT);
      const usage = await page.evaluate(() =>
        fetch("/api/v1/auth/refresh", {
          method: "POST",
          headers: { "X-Requested-With": "itcloud" },
        })
          .then((r) => r.json())
          .then((b) =>
            fetch("/api/v1/me/usage", { headers: { Authorization: "Bearer " + b.access_token } }),
          )
          .then((r) => r.json()),
      );
      check(
        usage.photos + usage.videos === PHOTOS + VIDEOS - 2,
        `library holds ${usage.photos + usage.videos}`,
      );
      check(usage.trashed === 0, `trash holds ${usage.trashed}`);
    });

    await step(
      "create an album from a selected day",
      async () => {
        await page
          .getByRole("checkbox", { name: /^Select all of/ })
          .first()
          .check();
        await page.getByRole("button", { name: "Add to album" }).click();
        await page.getByLabel("New album name").fill("Holiday");
        await page.getByRole("button", { name: "Create album" }).click();
        await page.getByText(/added to the album/).waitFor(WAIT);
        await page.getByRole("link", { name: "Albums" }).click();
        await page.getByTestId("album-card").filter({ hasText: "Holiday" }).click();
        await page.getByTestId("album-title").filter({ hasText: "Holiday" }).waitFor(WAIT);
        await page.getByTestId("tile").first().waitFor(WAIT);
        await shot(page, "album");
      },
      { needsShares: true },
    );

    await step(
      "favourite one and tag two, then find them by filter and by tag",
      async () => {
        // with the keyboard: Space selects a focused tile, Shift+Space a range
        const tiles = page.getByTestId("tile");
        await tiles.nth(0).focus();
        await page.keyboard.press("Space");
        await page.getByTestId("selection-count").filter({ hasText: "1 selected" }).waitFor(WAIT);
        await page.getByRole("button", { name: "Favourite" }).click();
        await page.getByText("Favourites updated").waitFor(WAIT);
        await tiles.nth(0).focus();
        await page.keyboard.press("Space");
        await tiles.nth(2).focus();
        await page.keyboard.press("Escape");
        await page.getByTestId("selection-bar").waitFor({ state: "detached" });
        await tiles.nth(0).focus();
        await page.keyboard.press("Space");
        await tiles.nth(1).focus();
        await page.keyboard.press("Shift+Space");
        await page.getByTestId("selection-count").filter({ hasText: "2 selected" }).waitFor(WAIT);
        await page.getByRole("button", { name: "Tag" }).click();
        await page.getByRole("dialog").getByLabel("Tag").fill("beach");
        await page.getByRole("dialog").getByRole("button", { name: "Save" }).click();
        await page.getByText("Tagged 2 items").waitFor(WAIT);
        await page.getByRole("link", { name: "Tags" }).click();
        await page.getByRole("link", { name: /beach/ }).getByText("2 items").waitFor(WAIT);
        await shot(page, "tags");
        await page.getByRole("link", { name: /beach/ }).click();
        await page.getByRole("heading", { name: "Tag: beach" }).waitFor(WAIT);
        await page.waitForFunction(
          () => document.querySelectorAll('[data-testid="tile"]').length === 2,
          null,
          WAIT,
        );
        await tiles.nth(0).focus();
        await page.keyboard.press("Control+a");
        await page.getByTestId("selection-count").filter({ hasText: "2 selected" }).waitFor(WAIT);
        await page.keyboard.press("Escape");
        await page.getByRole("link", { name: "Library" }).click();
        await page.getByRole("button", { name: "Favourites" }).click();
        await page.waitForFunction(
          () => document.querySelectorAll('[data-testid="tile"]').length === 1,
          null,
          WAIT,
        );
        await page.getByRole("link", { name: "Albums" }).click();
        await page.getByTestId("album-card").filter({ hasText: "Holiday" }).click();
      },
      { needsShares: true },
    );

    await step(
      "share the album with a password",
      async () => {
        await page.getByRole("button", { name: "Share" }).first().click();
        await page.getByLabel("Password").fill(sharePassword);
        await page.getByRole("button", { name: "Create link" }).click();
        link = await page.getByTestId("share-link").inputValue();
        check(/\/s\/[A-Za-z0-9_-]{20,}$/.test(link), `link ${link}`);
        await shot(page, "share-dialog");
        await page.getByRole("button", { name: "Done" }).click();
      },
      { needsShares: true },
    );

    await step(
      "the link in a fresh browser shows nothing before unlock",
      async () => {
        guest = await browser.newContext({ locale: "en-US", acceptDownloads: true });
        const gp = await guest.newPage();
        await gp.goto(link);
        await gp.getByTestId("share-password").waitFor(WAIT);
        check((await gp.locator("img").count()) === 0, "an image shows before unlock");
        check(!(await gp.content()).includes("Holiday"), "the album name shows before unlock");
        await shot(gp, "share-locked");
        guest.page = gp;
      },
      { needsShares: true },
    );

    await step(
      "unlock: photos show and download works",
      async () => {
        const gp = guest.page;
        await gp.getByTestId("share-password").fill(sharePassword);
        await gp.getByRole("button", { name: "Open" }).click();
        await gp.getByTestId("share-title").filter({ hasText: "Holiday" }).waitFor(WAIT);
        await gp.locator('[data-testid="tile"] img[data-loaded="true"]').first().waitFor(WAIT);
        await shot(gp, "share-open");
        // a photo: a video's original may hold a location the owner did not share
        await gp.locator('[data-testid="tile"][data-type="photo"]').first().click();
        const [download] = await Promise.all([
          gp.waitForEvent("download", WAIT),
          gp.getByTestId("viewer").getByRole("button", { name: "Download" }).click(),
        ]);
        const saved = join(work, "downloaded");
        await download.saveAs(saved);
        check(statSync(saved).size > 1000, "downloaded file is too small");
        check(/\.(jpg|mp4)$/.test(download.suggestedFilename()), download.suggestedFilename());
      },
      { needsShares: true },
    );

    await step(
      "revoke: the link shows not available",
      async () => {
        await page.getByRole("link", { name: "Shares" }).click();
        await page.getByTestId("share-row").first().waitFor(WAIT);
        await shot(page, "shares");
        await page.getByRole("button", { name: "Revoke" }).first().click();
        await page.getByRole("dialog").getByRole("button", { name: "Revoke" }).click();
        await page.getByText("Revoked").first().waitFor(WAIT);
        const gp = guest.page;
        await gp.reload();
        await gp.getByTestId("share-unavailable").waitFor(WAIT);
        check((await gp.locator('[data-testid="tile"]').count()) === 0, "tiles after revoke");
      },
      { needsShares: true },
    );

    await step(
      "share one photo from the viewer: its public page shows it large",
      async () => {
        await page.getByRole("link", { name: "Library" }).click();
        await page.locator('[data-testid="tile"][data-type="photo"]').first().click();
        const name = await page.getByTestId("viewer-title").textContent();
        await page.getByTestId("viewer").getByRole("button", { name: "Share" }).click();
        await page.getByRole("button", { name: "Create link" }).click();
        const single = await page.getByTestId("share-link").inputValue();
        await page.getByRole("img", { name: "QR code of the link" }).waitFor(WAIT);
        await page.getByRole("button", { name: "Done" }).click();
        await page.keyboard.press("Escape");
        const gp = guest.page;
        await gp.goto(single);
        await gp.getByTestId("share-title").filter({ hasText: name }).waitFor(WAIT);
        await imagePainted(gp, '[data-testid="share-asset"] img');
        await shot(gp, "share-single");
      },
      { needsShares: true },
    );

    await step("settings show storage and the devices by name", async () => {
      await page.getByRole("link", { name: "Settings" }).click();
      await page.getByTestId("usage").waitFor(WAIT);
      await page
        .getByText(/^Chrome \d+, Linux$/)
        .first()
        .waitFor(WAIT);
      await shot(page, "settings");
      await page.getByRole("button", { name: "Sign out everywhere" }).click();
      await page.getByRole("dialog").getByRole("button", { name: "Cancel" }).click();
      await page.getByRole("dialog").waitFor({ state: "detached" });
    });

    await step("a reload keeps the session through the refresh cookie", async () => {
      await page.goto(server.base + "/trash");
      await page.getByRole("heading", { name: "Trash" }).waitFor(WAIT);
      check(new URL(page.url()).pathname === "/trash", page.url());
      check((await page.title()) === "Trash · itcloud", `title ${await page.title()}`);
    });

    await step("Russian UI smoke test", async () => {
      const ru = await browser.newContext({ locale: "ru-RU" });
      const rp = await ru.newPage();
      await rp.goto(server.base + "/");
      await rp.getByRole("heading", { name: "Войти" }).waitFor(WAIT);
      await rp.getByLabel("Эл. почта").fill(email);
      await rp.getByLabel("Пароль").fill(password);
      await rp.getByRole("button", { name: "Войти" }).click();
      await rp.getByRole("heading", { name: "Медиатека" }).waitFor(WAIT);
      await rp.getByRole("button", { name: "Видео" }).waitFor(WAIT);
      await rp.getByTestId("tile").first().waitFor(WAIT);
      await shot(rp, "library-ru");
      await rp.getByRole("link", { name: "Настройки" }).click();
      await rp.getByText(/Фото: \d+, видео: \d+, в корзине: 0/).waitFor(WAIT);
      await shot(rp, "settings-ru");
      await ru.close();
    });

    await step("a phone-sized screen gets the menu button and a narrower grid", async () => {
      const phone = await browser.newContext({
        viewport: { width: 390, height: 844 },
        hasTouch: true,
        isMobile: true,
      });
      const pp = await phone.newPage();
      await pp.goto(server.base + "/login");
      await pp.getByLabel("Email").fill(email);
      await pp.getByLabel("Password").fill(password);
      await pp.getByRole("button", { name: "Sign in" }).click();
      await pp.getByTestId("tile").first().waitFor(WAIT);
      await pp.getByRole("button", { name: "Open navigation" }).waitFor(WAIT);
      const width = await pp
        .getByTestId("tile")
        .first()
        .evaluate((t) => t.getBoundingClientRect().width);
      check(width < 130, `tile width ${width}`);
      // no hover on a phone: the selection circles show, and a tap on one selects
      const circle = pp.getByTestId("select-circle").first();
      const opacity = await circle.evaluate((el) => getComputedStyle(el).opacity);
      check(opacity === "1", `selection circle opacity ${opacity}`);
      await circle.tap();
      await pp.getByTestId("selection-count").filter({ hasText: "1 selected" }).waitFor(WAIT);
      await shot(pp, "library-phone");
      await phone.close();
    });

    await step("sign out; a protected page asks to sign in, then comes back", async () => {
      await page.getByRole("button", { name: "Sign out" }).first().click();
      await page.getByRole("heading", { name: "Sign in" }).waitFor(WAIT);
      await page.goto(server.base + "/albums");
      await page.waitForURL(/\/login\?next=%2Falbums/, WAIT);
      await page.getByLabel("Email").fill(email);
      await page.getByLabel("Password").fill(password);
      await page.getByRole("button", { name: "Sign in" }).click();
      await page.waitForURL(/\/albums$/, WAIT);
      await page.getByRole("heading", { name: "Albums" }).waitFor(WAIT);
    });

    await step("Swagger UI at /api/docs reads the OpenAPI document", async () => {
      await page.goto(server.base + "/api/docs");
      await page.getByText("itcloud API").first().waitFor(WAIT);
      await page.getByText("/api/v1/assets").first().waitFor(WAIT);
      await shot(page, "api-docs");
    });
  } finally {
    await browser.close().catch(() => {});
    server.child.kill("SIGTERM");
    await new Promise((r) => server.child.once("exit", r));
    const log = readFileSync(server.log, "utf8");
    if (broken)
      console.log(
        log
          .split("\n")
          .slice(-30)
          .map((l) => "# " + l)
          .join("\n"),
      );
    rmSync(work, { recursive: true, force: true });
  }
  console.log(`1..${number}`);
  process.exit(broken ? 1 : 0);
}

main().catch((err) => {
  console.log(`not ok ${number + 1} - e2e run: ${err.message}`);
  process.exit(1);
});
