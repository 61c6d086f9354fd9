// The dashboard in a real browser (playwright-core driving Debian's
// Chromium), run by tests/integration/0830-dashboard-browser.c, which
// prepares the fleet and checks Kafka and PostgreSQL around each phase.
//
//   PHASE=check   the page refuses without the credential; with it, the
//                 group's lag, state and members and the dead-letter count
//                 are hfctl's numbers (EXPECT_*); a dry run re-produces
//                 nothing (lag unchanged), a confirmed replay re-produces the
//                 dead letter (lag + 1, the pool being stopped)
//   PHASE=load    while the pool drains a backlog: the charts have points,
//                 the pool's counters and latencies are shown; screenshot
//
// Environment: HF_ADMIN_URL, HF_ADMIN_TOKEN, HF_CHROMIUM (/usr/bin/chromium),
// POOL, EXPECT_LAG, EXPECT_MEMBERS, EXPECT_STATE, EXPECT_DLQ, EVENT_ID,
// SCREENSHOT. Prints one line per step; exits 1 at the first failure.
'use strict';
const { chromium } = require('playwright-core');

const env = (name) => {
  const v = process.env[name];
  if (v === undefined || v === '') throw new Error(`${name} is not set`);
  return v;
};
const url = env('HF_ADMIN_URL');
const token = env('HF_ADMIN_TOKEN');
const pool = env('POOL');
const phase = env('PHASE');

function check(ok, what) {
  if (!ok) throw new Error(`FAILED: ${what}`);
  console.log(`ok: ${what}`);
}

async function text(page, testid) {
  return (await page.getByTestId(testid).first().textContent()).trim();
}

// Waits until the element's text satisfies pred (the page refreshes itself).
async function until(page, testid, pred, what, timeout = 15000) {
  const end = Date.now() + timeout;
  let last = null;
  for (;;) {
    try { last = await text(page, testid); } catch (e) { last = `(${e.message.split('\n')[0]})`; }
    if (pred(last)) break;
    if (Date.now() > end) throw new Error(`FAILED: ${what}: the page shows "${last}"`);
    await page.waitForTimeout(200);
  }
  console.log(`ok: ${what} ("${last}")`);
  return last;
}

// The browser, given no or a wrong credential, gets a 401 and shows nothing
// (headless Chromium cannot prompt, so the navigation itself fails).
async function pageRefused(ctx, what) {
  const p = await ctx.newPage();
  let status = null, body = '';
  try {
    const r = await p.goto(url + '/');
    status = r.status();
    body = await r.text();
  } catch (e) {
    status = /ERR_INVALID_AUTH_CREDENTIALS/.test(e.message) ? 401 : e.message;
  }
  check(status === 401, `${what}: the page is refused (${status})`);
  check(!body.includes('Consumer groups'), `${what}: nothing of the dashboard is sent`);
  for (const path of ['/', '/app.js', '/api/groups', '/api/dlq']) {
    const r = await ctx.request.get(url + path);
    check(r.status() === 401 && /^Basic /.test(r.headers()['www-authenticate'] || ''), `${what}: GET ${path} is 401 with a Basic challenge`);
  }
  const post = await ctx.request.post(`${url}/api/dlq/${pool}/replay`, { data: { dry_run: false, confirm: pool } });
  check(post.status() === 401, `${what}: a replay is refused (${post.status()})`);
}

async function refused(browser) {
  const anon = await browser.newContext();
  await pageRefused(anon, 'without the credential');
  await anon.close();
  const wrong = await browser.newContext({ httpCredentials: { username: 'operator', password: token + 'x' } });
  await pageRefused(wrong, 'with a wrong credential');
  await wrong.close();
}

// Bad requests with the credential: each refused with its reason, nothing
// replayed (the lag, checked after the dry run, stays put).
async function badRequests(ctx) {
  const replay = `${url}/api/dlq/${pool}/replay`;
  const cases = [
    ['GET', '/api/dlq/Bad.Name', null, null, 400],
    ['GET', `/api/dlq/${pool}?limit=0`, null, null, 400],
    ['GET', '/api/dlq/nosuchpool', null, null, 404],
    ['GET', '/api/nothing', null, null, 404],
    ['POST', '/api/groups', '{}', 'application/json', 405],
    ['POST', replay, '{"dry_run": false, "confirm": "' + pool + '"}', 'text/plain', 403],
    ['POST', replay, 'nope', 'application/json', 400],
    ['POST', replay, '{}', 'application/json', 400],
    ['POST', replay, '{"dry_run": true, "offset": -1}', 'application/json', 400],
    ['POST', replay, '{"dry_run": false}', 'application/json', 409],
    ['POST', replay, '{"dry_run": false, "confirm": "other"}', 'application/json', 409],
  ];
  for (const [method, path, body, type, want] of cases) {
    const full = path.startsWith('http') ? path : url + path;
    const r = await ctx.request.fetch(full, { method, data: body === null ? undefined : body, headers: type ? { 'Content-Type': type } : {} });
    check(r.status() === want, `${method} ${full.slice(url.length)} ${body || ''} is ${want} (got ${r.status()})`);
  }
  const cross = await ctx.request.post(replay, { data: { dry_run: false, confirm: pool }, headers: { Origin: 'http://elsewhere.example' } });
  check(cross.status() === 403, `a replay from another origin is refused (${cross.status()})`);
}

async function checkPhase(page) {
  await badRequests(page.context());
  const lag = env('EXPECT_LAG');
  await until(page, `lag-${pool}`, (t) => t === lag, `the ${pool} group's lag is hfctl's ${lag}`);
  check(await text(page, `state-${pool}`) === env('EXPECT_STATE'), `state is hfctl's ${env('EXPECT_STATE')}`);
  check(await text(page, `members-${pool}`) === env('EXPECT_MEMBERS'), `members are hfctl's ${env('EXPECT_MEMBERS')}`);
  const dlq = env('EXPECT_DLQ');
  await until(page, `dlq-tab-${pool}`, (t) => t === `${pool} (${dlq})`, `the ${pool} dead-letter count is hfctl's ${dlq}`);
  await page.getByTestId(`dlq-tab-${pool}`).click();
  await page.locator('#dlq tbody tr', { hasText: env('EVENT_ID') }).first().waitFor({ timeout: 10000 });
  check(true, 'the dead letter is listed with its event id');
  const html = await page.content();
  check(!html.includes('calories'), 'no payload field is in the page');

  // A CSP violation would show as a console error; a page from elsewhere would need the network.
  await page.getByRole('button', { name: 'Replay: dry run' }).click();
  await page.locator('#replay-summary').filter({ hasText: 'Would replay 1 dead letter' }).waitFor({ timeout: 15000 });
  check(true, 'the dry run would replay 1 dead letter');
  await page.waitForTimeout(1500);
  check(await text(page, `lag-${pool}`) === lag, 'the dry run re-produced nothing (lag unchanged)');
  check(await page.locator('#replay-go').isDisabled(), 'Replay stays disabled until the pool name is typed');
  await page.locator('#replay-confirm').fill(pool);
  await page.locator('#replay-go').click();
  await page.locator('#replay-result').filter({ hasText: `Replayed 1 dead letter(s) of ${pool}` }).waitFor({ timeout: 20000 });
  check(true, 'the confirmed replay re-produced 1 dead letter');
  const more = String(Number(lag) + 1);
  await until(page, `lag-${pool}`, (t) => t === more, `the replayed record is waiting in the group (lag ${more})`);
}

async function loadPhase(page) {
  await until(page, `processed-${pool}`, (t) => Number(t) > 0, 'the pool\'s processed count is shown', 30000);
  await until(page, `rate-${pool}`, (t) => Number(t) > 0, 'the consumption rate is above 0 while draining', 30000);
  const points = await page.evaluate(() => document.querySelectorAll('#chart-lag canvas').length);
  check(points === 1, 'the lag chart is drawn');
  await page.waitForTimeout(2000);
  await page.screenshot({ path: env('SCREENSHOT'), fullPage: true });
  check(true, `screenshot ${env('SCREENSHOT')}`);
}

(async () => {
  const browser = await chromium.launch({
    executablePath: process.env.HF_CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
  let status = 0;
  try {
    if (phase === 'check') await refused(browser);
    const ctx = await browser.newContext({
      httpCredentials: { username: 'it-operator', password: token },
      viewport: { width: 1280, height: 900 },
    });
    const page = await ctx.newPage();
    const problems = [];
    page.on('console', (m) => { if (m.type() === 'error') problems.push(m.text()); });
    page.on('pageerror', (e) => problems.push(e.message));
    // Everything the page loads must come from hf-admin itself.
    page.on('request', (r) => { if (!r.url().startsWith(url)) problems.push(`request to ${r.url()}`); });
    const r = await page.goto(url + '/');
    check(r.status() === 200, 'the page loads with the credential');
    check((r.headers()['content-security-policy'] || '').includes("default-src 'none'"), 'the page is served with a CSP');
    await page.locator('body[data-loaded="true"]').waitFor({ timeout: 20000 });
    check(true, 'the page filled itself from the API');
    if (phase === 'check') await checkPhase(page);
    else await loadPhase(page);
    check(problems.length === 0, `no console errors, CSP violations or outside requests (${problems.join('; ')})`);
    await ctx.close();
  } catch (e) {
    console.log(e.message);
    status = 1;
  } finally {
    await browser.close();
  }
  process.exitCode = status;
})();
