// sandbox.spec.mjs drives the Keyturn sandbox in a real browser (Debian's
// chromium through playwright-core) the way a person would try it:
//
//   request by a developer → the requester's own approval refused →
//   approval by an administrator → the card follows the rotation to done,
//   with the vault URIs → audit entries in the audit channel → the vault
//   pane shows the new version, value masked → no secret value anywhere on
//   the page, in the page's data or in the sandbox's output → a restart
//   keeps requests, cards and audit.
//
// It also renders every golden card of bot/cards/testdata with the page's
// renderer (the official adaptivecards library, vendored).
//
//   npm ci --prefix tools/e2e && node --test tools/e2e/sandbox.spec.mjs
//
// Screenshots of each step go to .ci/artifacts/sandbox/. Environment:
//   CHROMIUM          browser binary (default /usr/bin/chromium)
//   KEYTURN_E2E_PKG   Go package to build (default ./cmd/bot)
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const ARTIFACTS = join(ROOT, ".ci", "artifacts", "sandbox");
// SECRET_MARKER is sandbox.SecretMarker: every simulated secret value
// carries it (a Go test checks the two agree).
const SECRET_MARKER = "~KEYTURN-SANDBOX-SECRET~";
const GENERAL = "19:sandbox-general@thread.tacv2";
const CHROMIUM_FLAGS = [
  "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync",
];
const STEP = 60_000;

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

// build compiles the binary that has the sandbox command.
function build(dir) {
  const bin = join(dir, "keyturn");
  const go = (args) => execFileSync("go", args, { cwd: ROOT, stdio: ["ignore", "pipe", "inherit"] }).toString();
  go(["build", "-o", bin, process.env.KEYTURN_E2E_PKG || "./cmd/bot"]);
  return bin;
}

// Sandbox is one run of the sandbox process.
class Sandbox {
  constructor(bin, stateDir, addr, botAddr) {
    this.output = "";
    this.proc = spawn(bin, ["sandbox", "--state-dir", stateDir, "--addr", addr, "--bot-addr", botAddr], {
      cwd: ROOT, stdio: ["ignore", "pipe", "pipe"],
    });
    this.exited = new Promise((resolve) => this.proc.once("exit", (code, signal) => resolve({ code, signal })));
    this.url = new Promise((resolve, reject) => {
      const onData = (chunk) => {
        this.output += chunk.toString();
        const m = /open\s+(http:\/\/127\.0\.0\.1:\d+\/)/.exec(this.output);
        if (m) resolve(m[1]);
      };
      this.proc.stdout.on("data", onData);
      this.proc.stderr.on("data", onData);
      this.exited.then(({ code }) => reject(new Error(`sandbox exited (${code}) before it was ready:\n${this.output}`)));
      setTimeout(() => reject(new Error(`sandbox not ready in time:\n${this.output}`)), STEP).unref();
    });
  }

  async stop() {
    this.proc.kill("SIGTERM");
    const { code } = await this.exited;
    return code;
  }
}

test("the sandbox, end to end in a browser", { timeout: 10 * 60_000 }, async (t) => {
  mkdirSync(ARTIFACTS, { recursive: true });
  const work = mkdtempSync(join(tmpdir(), "keyturn-e2e-"));
  const stateDir = join(work, "state");
  const bin = build(work);
  const addr = `127.0.0.1:${await freePort()}`;
  const botAddr = `127.0.0.1:${await freePort()}`;
  let sb = new Sandbox(bin, stateDir, addr, botAddr);
  let browser;
  const outputs = [];
  t.after(async () => {
    if (browser) await browser.close();
    if (sb && sb.proc.exitCode === null) await sb.stop();
    rmSync(work, { recursive: true, force: true });
  });
  let url = await sb.url;

  browser = await chromium.launchPersistentContext(join(work, "profile"), {
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    args: CHROMIUM_FLAGS,
    viewport: { width: 1600, height: 1000 },
  });
  const page = browser.pages()[0] || (await browser.newPage());
  const consoleErrors = [];
  page.on("console", (m) => m.type() === "error" && consoleErrors.push(m.text()));
  page.on("pageerror", (e) => consoleErrors.push(String(e)));
  // Nothing but the sandbox's own loopback server may be reached.
  const foreign = [];
  page.on("request", (r) => !r.url().startsWith(url) && !r.url().startsWith("data:") && foreign.push(r.url()));
  const shot = (name) => page.screenshot({ path: join(ARTIFACTS, `${name}.png`) });
  const chat = page.getByTestId("chat-pane");
  const audit = page.getByTestId("audit-pane");
  const vault = page.getByTestId("vault-pane");
  const as = async (user) => {
    await page.getByTestId("user-select").selectOption(user);
    await page.waitForFunction((u) => document.body.dataset.user === u, user);
  };
  const say = async (text) => {
    await page.getByTestId("compose").fill(text);
    await page.getByTestId("send").click();
  };
  const latestBotCard = () => chat.locator('[data-testid="message"][data-from="bot"]').last();

  await t.test("the page loads with its three panes", async () => {
    await page.goto(`${url}?as=megan`);
    await page.waitForFunction(() => document.body.dataset.ready === "true");
    assert.equal(await page.evaluate(() => typeof window.AdaptiveCards.AdaptiveCard), "function", "the official renderer is loaded");
    await audit.getByText("audit channel", { exact: false }).first().waitFor({ timeout: STEP });
    await vault.locator('[data-testid="secret"][data-name="payments-api-client-secret"]').waitFor();
    assert.match(await vault.innerText(), /••••••/);
    await chat.getByText("Keyturn", { exact: false }).first().waitFor();
    await shot("01-start");
  });

  await t.test("every golden card renders with the official library", async () => {
    const dir = join(ROOT, "bot", "cards", "testdata");
    const cards = readdirSync(dir).filter((f) => f.endsWith(".json")).map((f) => [f, JSON.parse(readFileSync(join(dir, f), "utf8"))]);
    assert.ok(cards.length > 10, "golden cards found");
    const failures = await page.evaluate((list) => {
      const bad = [];
      for (const [name, card] of list) {
        try {
          const out = window.KeyturnCards.render(card, () => {});
          if (!out.element.textContent.trim()) bad.push(`${name}: rendered no text`);
          if (out.warnings.length) bad.push(`${name}: ${out.warnings.join("; ")}`);
        } catch (err) {
          bad.push(`${name}: ${err.message}`);
        }
      }
      return bad;
    }, cards);
    assert.deepEqual(failures, []);
  });

  await t.test("someone with no Keyturn role is refused", async () => {
    await as("lee");
    await say("@Keyturn rotate payments-api");
    await chat.getByText("Asking for a rotation needs a role that may ask for rotations", { exact: false }).last().waitFor({ timeout: STEP });
    await shot("02-no-role-refused");
  });

  let cardID;
  await t.test("a developer requests a rotation and sees the approval card without buttons", async () => {
    await as("megan");
    await say("@Keyturn rotate payments-api");
    const card = chat.locator('[data-testid="message"][data-from="bot"]', { hasText: "Approval needed" }).last();
    await card.waitFor({ timeout: STEP });
    cardID = await card.getAttribute("data-id");
    assert.equal(await card.getByRole("button", { name: "Approve" }).count(), 0, "the requester is offered no Approve button");
    await shot("03-requested");
  });

  await t.test("the requester's own approval is refused by the bot", async () => {
    const data = await page.evaluate(async (id) => {
      const all = await (await fetch("/api/chat")).json();
      const m = all.messages.find((x) => x.id === id);
      return m.attachments[0].content.refresh.action.data;
    }, cardID);
    await page.evaluate(([id, d]) => window.KeyturnSandbox.execute(id, "approve", d), [cardID, data]);
    const card = chat.locator(`[data-testid="message"][data-id="${cardID}"]`);
    await card.getByTestId("card-notice").getByText("someone else must approve", { exact: false }).waitFor({ timeout: STEP });
    await shot("04-self-approval-refused");
  });

  await t.test("an administrator sees Approve, approves, and the card follows the rotation to done", async () => {
    await as("adele");
    const card = chat.locator(`[data-testid="message"][data-id="${cardID}"]`);
    const approve = card.getByRole("button", { name: "Approve" });
    await approve.waitFor({ timeout: STEP });
    await card.getByText("Only you can see this version", { exact: false }).waitFor();
    await shot("05-approver-view");
    await approve.click();
    await card.getByText("Client secret rotated", { exact: false }).waitFor({ timeout: STEP });
    const text = await card.innerText();
    assert.match(text, /https:\/\/kv-payments\.vault\.azure\.net\/secrets\/payments-api-client-secret\/[0-9a-f]+/);
    assert.match(text, /https:\/\/kv-payments\.vault\.azure\.net\/secrets\/payments-api-client-id\/[0-9a-f]+/);
    assert.doesNotMatch(text, /Only you can see this version/, "the approver's view follows the card to its end, as everyone's");
    await shot("06-done");
  });

  await t.test("the audit channel shows the request, the decisions and the rotation", async () => {
    for (const entry of ["rotation.requested", "approval.approved", "rotation.completed"]) {
      await audit.getByText(entry, { exact: false }).first().waitFor({ timeout: STEP });
    }
    await shot("07-audit");
  });

  await t.test("the vault pane shows the new version with its tags, value masked", async () => {
    const secret = vault.locator('[data-testid="secret"][data-name="payments-api-client-secret"]');
    await secret.getByText("2 versions", { exact: false }).waitFor({ timeout: STEP });
    const latest = secret.locator('[data-testid="version"]').first();
    const text = await latest.innerText();
    assert.match(text, /••••••/);
    assert.match(text, /keyturn-approved-by[\s\S]*Adele Vance/);
    assert.match(text, /keyturn-requested-by[\s\S]*Megan Bowen/);
    const creds = vault.locator('[data-testid="app"][data-alias="payments-api"] [data-testid="credential"]');
    assert.equal(await creds.count(), 2, "the new credential and the previous one (retired after the overlap)");
    assert.equal(await creds.and(page.locator('[data-role="current"]')).count(), 1, "the credential the vault holds is labelled");
    const retiring = creds.and(page.locator('[data-role="retiring"]'));
    assert.equal(await retiring.count(), 1, "the previous credential is labelled as waiting for retirement");
    assert.match(await retiring.innerText(), /waiting for retirement/);
  });

  await t.test("a second request points to the open one; the requester and the rejecter see the card follow", async () => {
    await as("megan");
    await say("@Keyturn rotate payments-api");
    const card = chat.locator('[data-testid="message"][data-from="bot"]', { hasText: "Approval needed" }).last();
    await card.waitFor({ timeout: STEP });
    const id = await card.getAttribute("data-id");
    const mine = chat.locator(`[data-testid="message"][data-id="${id}"]`);
    await mine.getByText("You asked for this rotation, so someone else must approve it", { exact: false }).waitFor({ timeout: STEP });
    await as("isaiah");
    await say("@Keyturn rotate payments-api");
    await chat.getByText("is already open", { exact: false }).last().waitFor({ timeout: STEP });
    await as("adele");
    const reject = mine.getByRole("button", { name: "Reject" });
    await reject.waitFor({ timeout: STEP });
    await reject.click();
    await mine.getByText("Rejected by", { exact: false }).waitFor({ timeout: STEP });
    // The rejecter's own version is everyone's card again: no personal frame.
    await mine.getByText("Only you can see this version", { exact: false }).waitFor({ state: "detached", timeout: STEP });
    await shot("07b-second-request-and-reject");
  });

  // The page must stay readable at the sizes people use: the chat column and
  // the app-credential table keep a readable width, key IDs are cut with the
  // full value on hover, and sending while scrolled up shows the newest post.
  const MIN_CHAT = 400;
  const MIN_TABLE = 300;
  for (const size of [{ width: 1280, height: 720 }, { width: 900, height: 900 }, { width: 1600, height: 1000 }]) {
    await t.test(`the page is readable at ${size.width}×${size.height}`, async () => {
      await page.setViewportSize(size);
      const chatBox = await chat.boundingBox();
      assert.ok(chatBox.width >= MIN_CHAT, `chat column is ${chatBox.width}px wide at ${size.width}px (want ≥ ${MIN_CHAT})`);
      const table = vault.locator('[data-testid="app"][data-alias="payments-api"] table').first();
      await table.scrollIntoViewIfNeeded();
      const tableBox = await table.boundingBox();
      assert.ok(tableBox.width >= MIN_TABLE, `credential table is ${tableBox.width}px wide at ${size.width}px (want ≥ ${MIN_TABLE})`);
      const key = table.locator("td.mono").first();
      const full = await key.getAttribute("title");
      assert.match(full, /^[0-9a-f-]{36}$/, "the full key ID is on hover");
      const lines = await key.evaluate((e) => {
        const r = document.createRange();
        r.selectNodeContents(e);
        return new Set([...r.getClientRects()].map((q) => Math.round(q.top))).size;
      });
      assert.equal(lines, 1, "a key ID stays on one line");
      await page.screenshot({ path: join(ARTIFACTS, `09-layout-${size.width}x${size.height}.png`), fullPage: true });
    });
  }

  await t.test("sending while scrolled up jumps to the newest message", async () => {
    await page.setViewportSize({ width: 1280, height: 720 });
    await chat.evaluate((e) => { e.scrollTop = 0; });
    assert.ok(await chat.evaluate((e) => e.scrollHeight > e.clientHeight + 80), "the chat is long enough to scroll");
    await say("@Keyturn whoami");
    await page.waitForFunction(() => {
      const e = document.querySelector('[data-testid="chat-pane"]');
      return e.scrollHeight - e.scrollTop - e.clientHeight < 80;
    }, null, { timeout: STEP });
    await page.setViewportSize({ width: 1600, height: 1000 });
  });

  // The expiry radar: its channel gets a card for Reports Job, whose secret
  // (made by hand, in no vault) ends in 4 days; Request rotation opens the
  // normal approval in the card's thread; once rotated, the card says so.
  await t.test("the radar warns, one click requests, and the card follows the rotation", async () => {
    await as("megan");
    await page.getByRole("button", { name: "keyturn-radar", exact: true }).click();
    const card = chat.locator('[data-testid="message"][data-from="bot"]', { hasText: "Reports Job" }).first();
    await card.getByText("Client secret expires in", { exact: false }).waitFor({ timeout: STEP });
    const text = await card.innerText();
    assert.match(text, /not in any Keyturn vault/);
    assert.match(text, /made by hand/);
    await shot("11-radar-card");
    await card.getByRole("button", { name: "Request rotation" }).click();
    await card.getByTestId("card-notice").getByText("Asking for approval", { exact: false }).waitFor({ timeout: STEP });
    const approval = chat.locator('[data-testid="message"][data-from="bot"]', { hasText: "Approval needed" }).last();
    await approval.waitFor({ timeout: STEP });
    const approvalID = await approval.getAttribute("data-id");
    await as("adele");
    const mine = chat.locator(`[data-testid="message"][data-id="${approvalID}"]`);
    await mine.getByRole("button", { name: "Approve" }).click();
    await mine.getByText("Client secret rotated", { exact: false }).waitFor({ timeout: STEP });
    await card.getByText("Rotated: Reports Job", { exact: false }).waitFor({ timeout: STEP });
    assert.equal(await card.getByRole("button", { name: "Request rotation" }).count(), 0, "a resolved card offers no button");
    await shot("12-radar-resolved");
    await page.getByRole("button", { name: "General", exact: true }).click();
  });

  await t.test("no secret value appears on the page, in its data or in the sandbox's output", async () => {
    const html = await page.content();
    const text = await page.evaluate(() => document.body.innerText);
    const data = await page.evaluate(async () => (await Promise.all(["/api/state", "/api/chat", "/api/tenant"].map((p) => fetch(p).then((r) => r.text())))).join("\n"));
    for (const [what, s] of [["page HTML", html], ["page text", text], ["page data", data], ["sandbox output", sb.output]]) {
      assert.ok(!s.includes(SECRET_MARKER), `a secret value appears in the ${what}`);
      assert.ok(!s.includes("[REDACTED]"), `a redacted secret was rendered into the ${what}`);
    }
    assert.deepEqual(foreign, [], "the page reached beyond the sandbox");
    assert.deepEqual(consoleErrors, [], "the page logged errors");
  });

  await t.test("a restart keeps the requests, the cards and the audit trail", async () => {
    outputs.push(sb.output);
    assert.equal(await sb.stop(), 0, "the sandbox stops cleanly");
    const banner = page.getByTestId("offline-banner");
    await banner.waitFor({ state: "visible", timeout: STEP });
    assert.match(await banner.innerText(), /not answering[\s\S]*go run \.\/cmd\/bot sandbox/);
    await shot("08-server-stopped");
    sb = new Sandbox(bin, stateDir, addr, botAddr);
    url = await sb.url;
    await page.goto(`${url}?as=megan`);
    await page.waitForFunction(() => document.body.dataset.ready === "true");
    await chat.locator(`[data-testid="message"][data-id="${cardID}"]`).getByText("Client secret rotated", { exact: false }).waitFor({ timeout: STEP });
    await audit.getByText("rotation.completed", { exact: false }).first().waitFor({ timeout: STEP });
    await vault.locator('[data-testid="secret"][data-name="payments-api-client-secret"]').getByText("2 versions", { exact: false }).waitFor();
    await say("@Keyturn status payments-api");
    await latestBotCard().getByText("payments-api-client-secret", { exact: false }).first().waitFor({ timeout: STEP });
    await shot("10-after-restart");
    assert.ok(await page.getByTestId("offline-banner").isHidden(), "the banner goes once the server answers");
    const html = await page.content();
    assert.ok(!html.includes(SECRET_MARKER) && !sb.output.includes(SECRET_MARKER), "no secret value after the restart");
  });
});
