// rapport's web UI in Debian's headless Chromium, driven by Playwright (playwright-core).
//
// One `rapport serve` over the demo data (built with `rapport demo --no-serve`), a webhook
// channel to inject messages as another system would, and an admin and a viewer. The
// tests log in, filter the inbox, open a conversation, reply, assign, resolve, look at the
// reports' charts, watch a message injected through the API appear without a reload, and
// check that untrusted text stays text. Screenshots go to target/browser-screenshots/.
//
// Run: RAPPORT_BIN=target/debug/rapport npm test --prefix tests/browser

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { createHmac } from "node:crypto";
import { mkdtempSync, mkdirSync, appendFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { createInterface } from "node:readline";
import { chromium } from "playwright-core";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const bin = process.env.RAPPORT_BIN ?? join(root, "target", "debug", "rapport");
const shots = join(root, "target", "browser-screenshots");
const secret = "browser-test-webhook-secret";
const password = "a long enough password";

let data, server, base, browser;

function cleanEnv() {
  const env = { ...process.env };
  delete env.RAPPORT_NOW;
  delete env.RAPPORT_DATA_DIR;
  delete env.RAPPORT_CONFIG;
  return env;
}

function rapport(args, input) {
  const out = spawnSync(bin, ["--data-dir", data, ...args], { input, encoding: "utf8", env: cleanEnv() });
  assert.equal(out.status, 0, `rapport ${args.join(" ")}: ${out.stderr}`);
  return out.stdout;
}

before(async () => {
  mkdirSync(shots, { recursive: true });
  data = join(mkdtempSync(join(tmpdir(), "rapport-browser-")), "data");
  const env = cleanEnv();
  const demo = spawnSync(bin, ["--data-dir", data, "demo", "--no-serve"], { encoding: "utf8", env });
  assert.equal(demo.status, 0, demo.stderr);
  appendFileSync(
    join(data, "rapport.toml"),
    '\n[[channel]]\nname = "helpdesk"\nkind = "webhook"\ncredentials_env = "RAPPORT_BROWSER_HOOK_SECRET"\n',
  );
  rapport(["user", "add", "ada", "--role", "admin", "--password-stdin"], password + "\n");
  rapport(["user", "add", "vera", "--role", "viewer", "--password-stdin"], password + "\n");
  server = spawn(bin, ["--data-dir", data, "serve", "--listen", "127.0.0.1:0"], {
    env: { ...env, RAPPORT_BROWSER_HOOK_SECRET: secret },
    stdio: ["ignore", "ignore", "pipe"],
  });
  base = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("rapport serve printed no address")), 30000);
    createInterface({ input: server.stderr }).on("line", (line) => {
      const m = line.match(/http:\/\/[0-9.:]+/);
      if (m) {
        clearTimeout(timer);
        resolve(m[0]);
      }
    });
  });
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
});

after(async () => {
  await browser?.close();
  server?.kill();
  if (data) rmSync(dirname(data), { recursive: true, force: true });
});

async function login(name, viewport = { width: 1280, height: 900 }) {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await page.goto(`${base}/`);
  assert.match(page.url(), /\/login/, "an anonymous visit goes to the login page");
  await page.fill("form#login input[name=name]", name);
  await page.fill("form#login input[name=password]", password);
  await Promise.all([page.waitForURL(`${base}/`), page.click("form#login button[type=submit]")]);
  return { context, page, errors };
}

async function inject(id, author, text) {
  const body = JSON.stringify({ id, author, text });
  const signature = "sha256=" + createHmac("sha256", secret).update(body).digest("hex");
  const res = await fetch(`${base}/api/v1/ingest/helpdesk`, {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-Rapport-Signature": signature },
    body,
  });
  assert.equal(res.status, 202, await res.text());
}

test("an agent filters the inbox, opens a conversation, replies, assigns and resolves", async () => {
  const { context, page, errors } = await login("ada");
  assert.ok((await page.locator("tr.conversation").count()) > 0, "the inbox has rows");
  await page.screenshot({ path: join(shots, "inbox.png"), fullPage: false });

  await page.selectOption("form#filters select[name=priority]", "P1");
  await Promise.all([page.waitForLoadState("load"), page.click("form#filters button[type=submit]")]);
  await page.waitForURL(/priority=P1/);
  const badges = await page.locator("tr.conversation span.badge.priority").allTextContents();
  assert.ok(badges.length > 0, "some P1 conversations are open in the demo");
  assert.ok(badges.every((b) => b.trim() === "P1"), `only P1 rows: ${badges}`);

  const row = page.locator("tr.conversation").first();
  const id = await row.getAttribute("data-id");
  await Promise.all([page.waitForURL(`${base}/conversations/${id}`), row.locator("a.open").click()]);
  assert.ok((await page.locator("ol#thread li.message").count()) > 0);
  assert.ok((await page.locator("section#explain").textContent()).length > 0);
  await page.screenshot({ path: join(shots, "conversation.png"), fullPage: true });

  const reply = `Sorry about this, we are on it (browser test ${Date.now()})`;
  await page.fill("form#reply textarea[name=text]", reply);
  await Promise.all([page.waitForLoadState("load"), page.click("form#reply button[type=submit]")]);
  await page.locator("ol#thread li.message[data-direction=outbound]", { hasText: reply }).waitFor();

  await page.fill("form#assign input[name=to]", "mara");
  await Promise.all([page.waitForLoadState("load"), page.click("form#assign [type=submit]")]);
  await Promise.all([page.waitForLoadState("load"), page.click("form#status button[value=resolved]")]);

  const res = await page.request.get(`${base}/api/v1/conversations/${id}`);
  assert.equal(res.status(), 200);
  const detail = await res.json();
  assert.equal(detail.conversation.status, "resolved");
  assert.equal(detail.conversation.assignee, "mara");
  assert.ok(detail.messages.some((m) => m.direction === "outbound" && m.text === reply));
  assert.deepEqual(errors, [], "no script errors");
  await context.close();
});

test("the reports page draws its charts", async () => {
  const { context, page, errors } = await login("ada");
  await page.click("a#nav-reports");
  await page.waitForURL(/\/reports/);
  for (const chart of ["#chart-volume", "#chart-frt", "#chart-sentiment", "#chart-sla"]) {
    const svg = page.locator(`${chart} svg`);
    await svg.waitFor();
    const box = await svg.boundingBox();
    assert.ok(box && box.width > 100 && box.height > 50, `${chart} is drawn (${JSON.stringify(box)})`);
  }
  await page.screenshot({ path: join(shots, "reports.png"), fullPage: true });
  const csv = await page.request.get(await page.locator("a#csv").getAttribute("href").then((h) => new URL(h, base).href));
  assert.equal(csv.status(), 200);
  assert.match((await csv.text()).split("\n")[0], /day/);
  assert.deepEqual(errors, []);
  await context.close();
});

test("the reports page shows share of voice and topics, and a topic opens its conversations", async () => {
  const { context, page, errors } = await login("ada");
  await page.goto(`${base}/reports?since=all`);
  assert.equal(await page.locator("select#range-since").inputValue(), "all", "the span stays all time");
  const ours = page.locator("table#share-of-voice tr.ours td");
  await ours.first().waitFor();
  const mentions = Number(await ours.nth(1).textContent());
  assert.ok(mentions > 1000, `the demo's brand topic has mentions (${mentions})`);
  const share = await page.locator("table#share-of-voice tr.ours meter").getAttribute("value");
  assert.ok(Number(share) > 0.5 && Number(share) < 1, `share of voice ${share}`);
  const rows = page.locator("table#topics tbody tr");
  assert.ok((await rows.count()) >= 5, "one row per configured topic");
  await page.locator("section#listening").screenshot({ path: join(shots, "listening.png") });
  // A topic's name opens the inbox filtered to it.
  const nanoleafRow = page.locator("table#topics tbody tr", { hasText: "nanoleaf" });
  const nanoleaf = await nanoleafRow.locator("td").nth(2).textContent();
  await Promise.all([page.waitForURL(/topic=nanoleaf/), page.click("table#topics a:text-is('nanoleaf')")]);
  assert.equal(await page.locator("select#filter-topic").inputValue(), "nanoleaf");
  const listed = await page.locator("tr.conversation").count();
  assert.ok(listed > 0 && listed <= Number(nanoleaf), `${listed} conversations about nanoleaf (of ${nanoleaf} messages)`);
  assert.deepEqual(errors, []);
  await context.close();
});

test("search finds the demo's firmware complaints, marks the words and opens a conversation", async () => {
  const { context, page, errors } = await login("ada");
  await page.click("nav a:text-is('Search')");
  await page.fill("input#search-q", '"firmware 4.2" sentiment:neg');
  await Promise.all([page.waitForURL(/\/search\?q=/), page.click("form#search button[type=submit]")]);
  // The server builds its index in the background after it starts: wait for it.
  for (let i = 0; i < 30 && (await page.locator("#indexing").count()) > 0; i++) {
    await page.waitForTimeout(500);
    await page.reload();
  }
  const total = await page.locator("#search-total").textContent();
  const n = Number(total.match(/^(\d+)/)?.[1] ?? 0);
  assert.ok(n > 10, `the demo's firmware incident is found (${total})`);
  const first = page.locator("ol#results li.hit").first();
  const marks = await first.locator("mark").allTextContents();
  assert.ok(marks.some((m) => m.toLowerCase() === "firmware"), `the words are marked: ${marks}`);
  await page.locator("form#search").screenshot({ path: join(shots, "search-form.png") });
  await Promise.all([page.waitForURL(/\/conversations\/\d+/), first.locator("a.open").click()]);
  // An unreadable query is explained on the page.
  await page.goto(`${base}/search?q=${encodeURIComponent('refund "battery')}`);
  assert.match(await page.locator("#search-error").textContent(), /not closed/);
  assert.deepEqual(errors, []);
  await context.close();
});

test("a message injected through the API appears in an open inbox without a reload", async () => {
  const { context, page, errors } = await login("ada");
  await page.locator("span#live", { hasText: "live" }).waitFor({ timeout: 15000 });
  await page.evaluate(() => {
    window.__noReload = true;
  });
  const text = `Live from the helpdesk ${Date.now()}: my parcel never came`;
  await inject(`live-${Date.now()}`, "jane.doe", text);
  await page.locator("tr.conversation", { hasText: text }).waitFor({ timeout: 15000 });
  assert.equal(await page.evaluate(() => window.__noReload), true, "the page was not reloaded");
  await page.screenshot({ path: join(shots, "inbox-live.png") });
  assert.deepEqual(errors, []);
  await context.close();
});

test("a script in a post is shown as text and runs nowhere; a viewer cannot reply", async () => {
  const text = `<script>window.pwned = 1</script><img src=x onerror="window.pwned = 2"> ${Date.now()}`;
  const id = `xss-${Date.now()}`;
  await inject(id, "mallory", text);
  const { context, page } = await login("vera", { width: 390, height: 844 });
  await page.goto(`${base}/?status=all&q=${encodeURIComponent("window.pwned")}`);
  const row = page.locator("tr.conversation").first();
  await row.waitFor();
  await Promise.all([page.waitForURL(/\/conversations\//), row.locator("a.open").click()]);
  await page.locator("ol#thread li.message", { hasText: "<script>window.pwned = 1</script>" }).waitFor();
  assert.equal(await page.evaluate(() => window.pwned), undefined, "no injected script ran");
  assert.equal(await page.locator("form#reply").count(), 0, "a viewer gets no reply box");
  await page.screenshot({ path: join(shots, "conversation-phone.png"), fullPage: true });
  await context.close();
});

test("the people page shows ROR; a suggested merge is confirmed on a person's page and undone", async () => {
  const { context, page, errors } = await login("ada");
  await Promise.all([page.waitForURL(`${base}/people`), page.click("a#nav-people")]);
  assert.match(await page.locator("p#ror").textContent(), /\d\.\d{3}/);
  assert.ok((await page.locator("ol#advocates li").count()) > 0, "the demo has advocates");
  const suggestion = page.locator("ul#suggestions li").first();
  await suggestion.waitFor();
  const keep = await suggestion.getAttribute("data-keep");
  await page.screenshot({ path: join(shots, "people.png"), fullPage: false });
  await Promise.all([
    page.waitForURL(`${base}/people/${keep}`),
    suggestion.locator("button", { hasText: "Merge" }).click(),
  ]);
  assert.equal(await page.locator("ul#identities li").count() >= 2, true, "both accounts under one person");
  await page.locator("table#ledger").waitFor();
  await page.locator("table#strength-terms").waitFor();
  await page.screenshot({ path: join(shots, "person-merged.png"), fullPage: true });
  await Promise.all([
    page.waitForURL(/\/people\/\d+$/),
    page.locator("ul#merges button", { hasText: "Undo" }).click(),
  ]);
  assert.match(await page.locator("ul#merges").textContent(), /undone by ada/);
  assert.deepEqual(errors, []);
  await context.close();
});

test("the tribe page draws the graph of who talks with whom", async () => {
  const { context, page, errors } = await login("ada");
  await Promise.all([page.waitForURL(/\/tribe/), page.click("a#nav-tribe")]);
  const svg = page.locator("svg#tribe-svg");
  await svg.waitFor();
  const box = await svg.boundingBox();
  assert.ok(box && box.width > 200 && box.height > 200, `the picture has a size: ${JSON.stringify(box)}`);
  assert.ok((await svg.locator("circle").count()) > 10, "people are drawn");
  await page.screenshot({ path: join(shots, "tribe.png"), fullPage: false });
  assert.deepEqual(errors, []);
  await context.close();
});
