// The dashboard in a real browser: Playwright drives Debian's Chromium against a gantry
// server started here, with projects pushed by a real git client. Screenshots of each page go
// to docs/screenshots/ (referenced by docs/dashboard.md); the log viewer's figures (first
// paint of a 100,000-line log, delay of live lines) go to bench/out/dashboard.json and are
// reported, not asserted.
//
//   GANTRY_BIN=target/release/gantry node --test tests/browser/
//
// Without Chromium or the binary the tests are skipped with the reason, except in CI.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import net from 'node:net';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../..');
const BIN = process.env.GANTRY_BIN ?? join(root, 'target/release/gantry');
const CHROMIUM = process.env.GANTRY_CHROMIUM ?? '/usr/bin/chromium';
const TOKEN = 'glpat-browsertestroot0001';
const PASSWORD = 'root-password-1';
const shots = join(root, 'docs/screenshots');

const missing = [!existsSync(BIN) && `no gantry binary at ${BIN}`, !existsSync(CHROMIUM) && `no Chromium at ${CHROMIUM}`].filter(Boolean);
if (missing.length && process.env.CI === 'true') throw new Error(`browser tests cannot run in CI: ${missing.join(', ')}`);
const skip = missing.length ? `skipped: ${missing.join(', ')}` : false;
if (skip) console.log(`dashboard browser tests ${skip}`);

let server, base, work, browser, chromium;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function freePort() {
  return new Promise((ok) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => ok(port)); });
  });
}

async function api(method, path, body, token = TOKEN) {
  const res = await fetch(`${base}/api/v4${path}`, {
    method,
    headers: { 'PRIVATE-TOKEN': token, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

async function until(what, fn, ms = 60000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

function git(dir, ...args) {
  return execFileSync('git', args, { cwd: dir, env: { ...process.env, GIT_TERMINAL_PROMPT: '0' } }).toString();
}

/** Creates project `me/<name>` and pushes `files` to its main branch with git. */
async function push(name, files, visibility = 'private') {
  const project = await api('POST', '/projects', { namespace: 'me', name, visibility });
  const dir = join(work, name);
  mkdirSync(dir, { recursive: true });
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  git(dir, 'init', '-q', '-b', 'main');
  git(dir, '-c', 'user.name=Dev', '-c', 'user.email=dev@example.com', 'add', '.');
  git(dir, '-c', 'user.name=Dev', '-c', 'user.email=dev@example.com', 'commit', '-q', '-m', `Add ${name}`);
  const url = new URL(base);
  git(dir, 'push', '-q', `http://root:${TOKEN}@${url.host}/me/${name}.git`, 'main');
  return project;
}

async function signIn(page, username, password) {
  await page.goto(`${base}/users/sign_in`);
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${base}/`);
}

async function shot(page, name) {
  mkdirSync(shots, { recursive: true });
  await page.screenshot({ path: join(shots, `${name}.png`), fullPage: false });
}

before(async () => {
  if (skip) return;
  ({ chromium } = await import('playwright-core'));
  work = mkdtempSync(join(tmpdir(), 'gantry-browser-'));
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  server = spawn(BIN, ['server', '--listen', `127.0.0.1:${port}`, '--data-dir', join(work, 'data')], {
    env: { ...process.env, GANTRY_INITIAL_ROOT_TOKEN: TOKEN, GANTRY_INITIAL_ROOT_PASSWORD: PASSWORD, RUST_LOG: 'warn' },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  await until('the server', async () => (await fetch(`${base}/-/health`).catch(() => null))?.ok, 30000);
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
});

after(async () => {
  await browser?.close();
  if (server && server.exitCode === null && server.signalCode === null) {
    // The data directory is removed only once the server let go of it.
    const exited = new Promise((ok) => server.once('exit', ok));
    server.kill('SIGTERM');
    await Promise.race([exited, sleep(10000)]);
  }
  if (work) rmSync(work, { recursive: true, force: true });
});

const PIPELINE = `stages: [build, test, deploy]
build:
  stage: build
  script:
    - echo "building"
    - mkdir -p out/reports && echo ok > out/reports/summary.txt
    - 'echo odd > "out/reports/odd #1.txt"'
    - sleep 3
  artifacts:
    paths: [out/]
unit:
  stage: test
  needs: [build]
  script:
    - printf '\\033[31mboom\\033[0m in red\\n'
    - if [ "$FAIL" = "1" ]; then echo "the failing line"; exit 1; fi
ship:
  stage: deploy
  when: manual
  script: echo "shipping to \${SHIP_TO:-nowhere}"
`;

test('a pipeline goes from running to passed live; a failed job shows its log, is retried, a manual job is played', { skip, timeout: 240000 }, async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
  const page = await context.newPage();
  await signIn(page, 'root', PASSWORD);
  await shot(page, 'projects');

  const project = await push('app', { '.gitlab-ci.yml': PIPELINE }, 'internal');
  await page.goto(`${base}/me/app/-/pipelines`);
  await page.evaluate(() => { window.notReloaded = true; });
  const row = page.locator('#pipelines tbody tr').first();
  await row.locator('.st.st-running').waitFor({ timeout: 30000 });
  await shot(page, 'pipelines-running');
  await row.locator('.st.st-success').waitFor({ timeout: 60000 });
  assert.equal(await page.evaluate(() => window.notReloaded), true, 'the status changed without a reload');
  await shot(page, 'pipelines');

  // The graph, with the needs line from build to unit; then the manual job is played.
  await row.locator('a[href*="/-/pipelines/"]').click();
  await page.locator('.graph .job[data-job="ship"].st-manual').waitFor();
  assert.equal(await page.locator('svg.needs path[data-from="build"][data-to="unit"]').count(), 1);
  await shot(page, 'pipeline');
  // The manual job is played from its page, with a variable.
  await page.locator('.graph .job[data-job="ship"] a').click();
  await page.locator('#job form.play').getByLabel('Variable key').fill('SHIP_TO');
  await page.locator('#job form.play').getByLabel('Variable value').fill('the moon');
  await page.locator('#job').getByRole('button', { name: 'Run job' }).click();
  await page.locator('#log .ln', { hasText: /^\d+shipping to the moon$/ }).waitFor({ timeout: 30000 });
  await page.locator('#job h1 .st-success').waitFor({ timeout: 30000 });
  await page.locator('.vars-names code', { hasText: 'SHIP_TO' }).waitFor();
  await page.goBack();
  await page.locator('.graph .job[data-job="ship"].st-success').waitFor({ timeout: 30000 });

  // Run pipeline with FAIL=1 from the form: unit fails with its reason.
  await page.goto(`${base}/me/app/-/pipelines`);
  await page.locator('summary', { hasText: 'Run pipeline' }).click();
  await page.getByLabel('Variable key').fill('FAIL');
  await page.getByLabel('Variable value').fill('1');
  await page.locator('form[data-api$="/pipeline"] button[type=submit]').click();
  await page.waitForURL(/\/-\/pipelines\/\d+$/);
  await page.locator('.failed li', { hasText: 'unit' }).waitFor({ timeout: 60000 });
  assert.match(await page.locator('.failed li').first().innerText(), /script_failure/);
  await page.locator('h1 .st-failed').waitFor({ timeout: 30000 });
  await shot(page, 'pipeline-failed');

  // The failed job: coloured log, the failing line, sections with durations.
  await page.locator('.failed li a', { hasText: 'unit' }).click();
  await page.locator('#log .ln .fg-1', { hasText: 'boom' }).waitFor();
  await page.locator('#log .ln', { hasText: /^\d+the failing line$/ }).waitFor();
  await page.locator('#log .ln', { hasText: 'exit code 1' }).first().waitFor();
  await page.locator('#log[data-complete="true"]').waitFor();
  await shot(page, 'job-failed');
  // Sections fold and unfold from the keyboard; the button keeps the focus.
  const fold = page.locator('#log .fold').first();
  assert.equal(await fold.getAttribute('aria-expanded'), 'true');
  await fold.focus();
  await page.keyboard.press('Enter');
  await page.locator('#log #L2').waitFor({ state: 'detached' });
  assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('aria-expanded')), 'false');
  await page.keyboard.press('Space');
  await page.locator('#log #L2').waitFor();
  // A line's anchor opens the log at that line, marked.
  await page.goto(`${page.url()}#L8`);
  await page.reload();
  await page.locator('#log .ln.anchor#L8', { hasText: 'the failing line' }).waitFor();
  const firstAttempt = page.url();
  await page.locator('#job').getByRole('button', { name: 'Retry' }).click();
  await page.waitForURL((u) => u.href !== firstAttempt && /\/-\/jobs\/\d+$/.test(u.pathname));
  await page.locator('dd', { hasText: /^2$/ }).waitFor();

  // Artifacts of build, browsed.
  const jobs = await api('GET', `/projects/${project.id}/jobs?scope[]=success`);
  const build = jobs.find((j) => j.name === 'build');
  await page.goto(`${base}/me/app/-/jobs/${build.id}/artifacts/browse`);
  await page.getByRole('link', { name: /out/ }).click();
  await page.getByRole('link', { name: /reports/ }).click();
  await page.getByRole('link', { name: 'summary.txt' }).waitFor();
  await shot(page, 'artifacts');
  // A name with a space and a `#` links to itself, not to a fragment of another name.
  const odd = await page.getByRole('link', { name: 'odd #1.txt' }).getAttribute('href');
  assert.match(odd, /\/file\/out\/reports\/odd%20%231\.txt$/);
  const oddFile = await page.request.get(new URL(odd, base).href);
  assert.equal(oddFile.status(), 200);
  assert.equal((await oddFile.text()).trim(), 'odd');

  // Settings: a masked variable is added from the form; its value never reaches the page.
  await page.goto(`${base}/me/app/-/settings/ci_cd`);
  const form = page.locator('form[data-api$="/variables"]');
  await form.getByLabel('Key').fill('DEPLOY_TOKEN');
  await form.getByLabel('Value').fill('super-secret-value-42');
  await form.getByLabel('Masked').check();
  await form.getByRole('button', { name: 'Add variable' }).click();
  const added = page.locator('tr', { hasText: 'DEPLOY_TOKEN' });
  await added.waitFor();
  assert.match(await added.innerText(), /masked/);
  assert.ok(!(await page.content()).includes('super-secret-value-42'), 'a masked value is never in the page');
  await shot(page, 'settings');

  // Dark theme, narrow screen.
  const narrow = await browser.newContext({ viewport: { width: 390, height: 800 }, colorScheme: 'dark' });
  const phone = await narrow.newPage();
  await signIn(phone, 'root', PASSWORD);
  await phone.goto(`${base}/me/app/-/pipelines`);
  await shot(phone, 'pipelines-narrow-dark');
  await narrow.close();
  await context.close();
});

test('environments: review apps grouped, stop runs on_stop, an earlier deployment is deployed again', { skip, timeout: 180000 }, async () => {
  const project = await push('site', {
    '.gitlab-ci.yml': `review:
  script: echo "deploying review of $CI_COMMIT_REF_SLUG"
  environment:
    name: review/$CI_COMMIT_REF_SLUG
    url: http://review-$CI_COMMIT_REF_SLUG.example
    on_stop: stop_review
stop_review:
  when: manual
  script: echo "stopping review of $CI_COMMIT_REF_SLUG"
  environment:
    name: review/$CI_COMMIT_REF_SLUG
    action: stop
production:
  script: echo "deploying production from pipeline $CI_PIPELINE_IID"
  environment: production
`,
  });
  const done = async (id) => until(`pipeline ${id}`, async () => (await api('GET', `/projects/${project.id}/pipelines/${id}`)).status === 'success', 60000);
  const first = await until('the pipeline', async () => (await api('GET', `/projects/${project.id}/pipelines`))[0]);
  await done(first.id);
  const second = await api('POST', `/projects/${project.id}/pipeline`, { ref: 'main' });
  await done(second.id);

  const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
  const page = await context.newPage();
  page.on('dialog', (d) => d.accept());
  await signIn(page, 'root', PASSWORD);
  await page.goto(`${base}/me/site/-/environments`);
  const review = page.locator('article[data-environment="review/main"]');
  await review.locator('.env-available').waitFor();
  assert.equal(await page.locator('h2.folder', { hasText: 'review' }).count(), 1, 'review apps are grouped in their folder');
  assert.equal(await review.getByRole('link', { name: 'Open' }).getAttribute('href'), 'http://review-main.example');
  const production = page.locator('article[data-environment="production"]');
  assert.equal(await production.locator('tbody tr').count(), 2, 'two deployments to production');
  await shot(page, 'environments');

  // Stop: the on_stop job runs and the environment shows stopped, live.
  await review.getByRole('button', { name: 'Stop' }).click();
  await review.locator('.env-stopped').waitFor({ timeout: 30000 });
  const envs = await api('GET', `/projects/${project.id}/environments`);
  assert.equal(envs.find((e) => e.name === 'review/main').state, 'stopped');

  // Re-deploy the earlier production deployment: its job runs again, a third deployment.
  await production.getByRole('button', { name: 'Re-deploy' }).click();
  await production.locator('tbody tr').nth(2).waitFor({ timeout: 30000 });
  await production.locator('tbody tr').first().locator('.st-success').waitFor({ timeout: 30000 });
  const deployments = await api('GET', `/projects/${project.id}/deployments`);
  const prod = deployments.filter((d) => d.environment.name === 'production');
  assert.equal(prod.length, 3);
  assert.equal(prod[0].sha, prod[2].sha);
  assert.equal(prod[0].deployable.name, 'production');
  await shot(page, 'environments-after-stop-and-redeploy');
  await context.close();
});

test('a guest sees pipelines but no buttons, and the API refuses a hand-made retry', { skip, timeout: 120000 }, async () => {
  await api('POST', '/users', { username: 'guest1', password: 'guest-password-1' });
  const project = (await api('GET', '/projects')).find((p) => p.path_with_namespace === 'me/app');
  assert.ok(project, 'the first test created me/app');
  const [pipeline] = await api('GET', `/projects/${project.id}/pipelines`);
  const jobs = await api('GET', `/projects/${project.id}/pipelines/${pipeline.id}/jobs`);
  const context = await browser.newContext();
  const page = await context.newPage();
  await signIn(page, 'guest1', 'guest-password-1');
  await page.goto(`${base}/me/app/-/pipelines/${pipeline.id}`);
  await page.locator('.graph .job').first().waitFor();
  assert.equal(await page.locator('button[aria-label^="Retry"], button[aria-label^="Play"]').count(), 0);
  assert.equal(await page.locator('a', { hasText: 'Settings' }).count(), 0);
  const status = await page.evaluate(async (url) => {
    const csrf = document.querySelector('meta[name="csrf-token"]').content;
    const r = await fetch(url, { method: 'POST', headers: { 'X-CSRF-Token': csrf } });
    return r.status;
  }, `/api/v4/projects/${project.id}/jobs/${jobs[0].id}/retry`);
  assert.equal(status, 403, "a guest's retry is refused");
  const settings = await page.goto(`${base}/me/app/-/settings/ci_cd`);
  assert.equal(settings.status(), 403);
  await context.close();

  // Root's own session without the CSRF token is refused too.
  const rootContext = await browser.newContext();
  const rootPage = await rootContext.newPage();
  await signIn(rootPage, 'root', PASSWORD);
  const noToken = await rootPage.evaluate(async (url) => (await fetch(url, { method: 'POST' })).status, `/api/v4/projects/${project.id}/jobs/${jobs[0].id}/retry`);
  assert.equal(noToken, 403, 'a session request without its CSRF token is refused');
  await rootContext.close();
});

test('a 100,000-line log is usable at once and live lines arrive while the job runs', { skip, timeout: 240000 }, async () => {
  const project = await push('logs', {
    '.gitlab-ci.yml': `big:
  script:
    - seq -f 'line %g of the log' 1 100000
live:
  when: manual
  script:
    - for i in $(seq 1 20); do echo "TICK $(date +%s%3N)"; sleep 0.25; done
`,
  });
  const pipelines = await until('the pipeline', async () => (await api('GET', `/projects/${project.id}/pipelines`))[0]);
  const jobs = await api('GET', `/projects/${project.id}/pipelines/${pipelines.id}/jobs`);
  const big = jobs.find((j) => j.name === 'big');
  const live = jobs.find((j) => j.name === 'live');
  await until('the big job', async () => (await api('GET', `/projects/${project.id}/jobs/${big.id}`)).status === 'success', 120000);

  const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
  await context.addInitScript(() => {
    window.figures = { ticks: [] };
    new MutationObserver(() => {
      const rows = document.querySelectorAll('.log-rows .ln');
      if (rows.length && !window.figures.firstRow) window.figures.firstRow = performance.now();
      for (const r of rows) {
        const m = /TICK (\d+)/.exec(r.textContent);
        if (m && !window.figures.ticks.some((t) => t.printed === Number(m[1]))) window.figures.ticks.push({ printed: Number(m[1]), seen: Date.now() });
      }
      if (document.querySelector('#log[data-complete="true"]') && !window.figures.complete) window.figures.complete = performance.now();
    }).observe(document, { subtree: true, childList: true, attributes: true });
  });
  const page = await context.newPage();
  await signIn(page, 'root', PASSWORD);
  await page.goto(`${base}/me/logs/-/jobs/${big.id}`);
  await page.locator('#log[data-complete="true"]').waitFor({ timeout: 60000 });
  const count = await page.evaluate(() => window.gantryLog.lines.length);
  assert.ok(count >= 100000, `all lines arrived (${count})`);
  assert.ok(await page.locator('.log-rows .ln').count() < 500, 'only the rows on screen are in the page');
  await page.locator('.log-rows .ln', { hasText: 'line 100000 of the log' }).waitFor();
  await page.getByLabel('Search the log').fill('line 99999 of');
  await page.locator('[data-log-count]', { hasText: '1 of 1' }).waitFor();
  await page.locator('.ln.cur mark', { hasText: 'line 99999 of' }).waitFor();
  await shot(page, 'job-100k');
  const big_figures = await page.evaluate(() => ({ ...window.figures, paint: performance.getEntriesByName('first-contentful-paint')[0]?.startTime }));

  // Live: the page is open before the job starts printing.
  await page.goto(`${base}/me/logs/-/jobs/${live.id}`);
  await page.locator('#job').getByRole('button', { name: 'Run job' }).click();
  await page.locator('#log[data-complete="true"]').waitFor({ timeout: 60000 });
  const ticks = await page.evaluate(() => window.figures.ticks);
  assert.ok(ticks.length >= 15, `live lines were seen as they came (${ticks.length})`);
  const delays = ticks.map((t) => t.seen - t.printed).sort((a, b) => a - b);
  const figures = {
    log_lines: count,
    first_contentful_paint_ms: Math.round(big_figures.paint ?? -1),
    first_log_row_ms: Math.round(big_figures.firstRow),
    all_lines_loaded_ms: Math.round(big_figures.complete),
    live_line_delay_ms: { p50: delays[Math.floor(delays.length / 2)], max: delays[delays.length - 1], samples: delays.length },
  };
  console.log(`dashboard figures: ${JSON.stringify(figures)}`);
  mkdirSync(join(root, 'bench/out'), { recursive: true });
  writeFileSync(join(root, 'bench/out/dashboard.json'), `${JSON.stringify(figures, null, 2)}\n`);
  await context.close();
});
