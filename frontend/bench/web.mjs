// The browser half of bench/web: signs in, then measures (a) navigation to the first
// screen of thumbnails painted, the app next to a bare HTML page with the same
// thumbnails, cache disabled, median of RUNS; (b) a scroll through the whole library,
// half a viewport per frame: frames over 50 ms, dropped frames, long tasks, the most DOM
// nodes seen. Prints the markdown table.
import { launchChromium } from "../e2e/chromium.mjs";

const BASE = process.env.BENCH_BASE;
const ASSETS = Number(process.env.BENCH_ASSETS);
const RUNS = 5;

/** In the page: every tile in the viewport shows its loaded thumbnail. */
function visibleThumbsPainted() {
  const tiles = [...document.querySelectorAll('[data-testid="tile"]')];
  if (!tiles.length) return false;
  return tiles.every((t) => {
    const r = t.getBoundingClientRect();
    if (r.bottom < 0 || r.top > window.innerHeight) return true;
    return t.querySelector('img[data-loaded="true"]');
  });
}

function imagesPainted() {
  const imgs = [...document.images];
  return imgs.length > 0 && imgs.every((i) => i.complete && i.naturalWidth > 0);
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main() {
  const browser = await launchChromium();
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send("Network.setCacheDisabled", { cacheDisabled: true });

  await page.goto(BASE + "/login");
  await page.getByLabel("Email").fill(process.env.BENCH_EMAIL);
  await page.getByLabel("Password").fill(process.env.BENCH_PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForFunction(visibleThumbsPainted, null, { polling: "raf", timeout: 60000 });

  const app = [];
  const bare = [];
  let visible = 0;
  for (let run = 0; run < RUNS; run++) {
    let t0 = performance.now();
    await page.goto(BASE + "/");
    await page.waitForFunction(visibleThumbsPainted, null, { polling: "raf", timeout: 60000 });
    app.push(performance.now() - t0);

    const srcs = await page.evaluate(() =>
      [...document.querySelectorAll('[data-testid="tile"]')]
        .filter((t) => t.getBoundingClientRect().top < window.innerHeight)
        .map((t) => t.querySelector("img").src),
    );
    visible = srcs.length;
    const html =
      "<!doctype html><body style='margin:0'>" +
      srcs
        .map((s) => `<img src="${s}" width="180" height="180" style="object-fit:cover">`)
        .join("");
    t0 = performance.now();
    await page.setContent(html);
    await page.waitForFunction(imagesPainted, null, { polling: "raf", timeout: 60000 });
    bare.push(performance.now() - t0);
  }

  // the scroll: half a viewport per animation frame until the end of the library
  await page.goto(BASE + "/");
  await page.waitForFunction(visibleThumbsPainted, null, { polling: "raf", timeout: 60000 });
  const scroll = await page.evaluate(async () => {
    const frames = [];
    const ids = new Set();
    let longTasks = 0;
    let maxNodes = 0;
    new PerformanceObserver((list) => (longTasks += list.getEntries().length)).observe({
      type: "longtask",
    });
    const frame = () => new Promise((r) => requestAnimationFrame(r));
    const start = performance.now();
    let last = await frame();
    let stillAtEnd = 0;
    while (stillAtEnd < 120 && performance.now() - start < 300000) {
      window.scrollBy(0, window.innerHeight / 2);
      const now = await frame();
      frames.push(now - last);
      last = now;
      maxNodes = Math.max(maxNodes, document.getElementsByTagName("*").length);
      for (const t of document.querySelectorAll('[data-testid="tile"]')) ids.add(t.dataset.assetId);
      const atEnd =
        window.scrollY + window.innerHeight >= document.documentElement.scrollHeight - 2;
      stillAtEnd = atEnd ? stillAtEnd + 1 : 0;
    }
    return {
      seconds: (performance.now() - start) / 1000,
      frames: frames.length,
      slow: frames.filter((f) => f > 50).length,
      dropped: frames.reduce((s, f) => s + Math.max(0, Math.round(f / 16.7) - 1), 0),
      longTasks,
      maxNodes,
      seen: ids.size,
    };
  });
  await browser.close();

  const a = median(app);
  const b = median(bare);
  const pass = (ok) => (ok ? "pass" : "FAIL");
  console.log("| metric | app | bare page | ratio | target |");
  console.log("|---|---:|---:|---:|---|");
  console.log(
    `| navigation to first screen of thumbnails (${visible} tiles, median of ${RUNS}) | ${a.toFixed(0)} ms | ${b.toFixed(0)} ms | ${(a / b).toFixed(2)} | < 1000 ms: ${pass(a < 1000)} |`,
  );
  console.log(
    `| scroll through the library, half a viewport per frame | ${scroll.seconds.toFixed(1)} s, ${scroll.frames} frames, ${scroll.seen} of ${ASSETS} assets rendered | - | - | - |`,
  );
  console.log(
    `| frames over 50 ms / dropped frames / long tasks | ${scroll.slow} / ${scroll.dropped} / ${scroll.longTasks} | - | - | - |`,
  );
  console.log(
    `| most DOM nodes at any time | ${scroll.maxNodes} | - | - | <= 2000: ${pass(scroll.maxNodes <= 2000)} |`,
  );
  console.log();
  console.log(`- app runs (ms): ${app.map((x) => x.toFixed(0)).join(", ")}`);
  console.log(`- bare page runs (ms): ${bare.map((x) => x.toFixed(0)).join(", ")}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
