// The dashboard's second round in Chromium: the map without and with
// imported outlines, a session kept across a server restart, a city officer
// on a phone-width screen reporting progress, a disabled user thrown out.
// The Rust test (web_round_two.rs) drives the server between steps: this
// script prints one JSON line per step and waits for a line on stdin.
//   node round2.mjs URL SCREENSHOT_DIR
import { chromium } from 'playwright-core';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

const [url, shots] = process.argv.slice(2);
const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
// Report a step and wait for the test to do its part (restart, disable …).
async function step(name, value) {
  console.log(JSON.stringify({ step: name, ...value }));
  const next = await lines.next();
  if (next.done || next.value.trim() !== 'go') throw new Error(`test said ${JSON.stringify(next.value)} after ${name}`);
}
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];
async function browser(viewport) {
  const ctx = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), 'lantian-chromium-')), {
    executablePath: '/usr/bin/chromium', headless: true, viewport, args: ARGS,
  });
  // Waits are for the page, not a time limit (see overview.mjs).
  ctx.setDefaultTimeout(120_000);
  return [ctx, ctx.pages()[0] ?? await ctx.newPage()];
}
async function login(page, user, password) {
  await page.goto(url);
  await page.waitForSelector('#login');
  await page.fill('#name', user);
  await page.fill('#password', password);
  await page.click('#login button[type=submit]');
  await page.waitForSelector('#tabs:not([hidden])');
}
// What the overview's map draws: its kind, series type, titles, and the regions coloured.
const mapState = (page, id) => page.evaluate((id) => {
  const el = document.getElementById(id);
  const o = echarts.getInstanceByDom(el).getOption();
  return { kind: el.dataset.kind, series: o.series[0].type, title: o.title[0].text, subtext: o.title[0].subtext,
    data: (o.series[0].data || []).length, geo: (o.geo || []).length };
}, id);

const [desk, page] = await browser({ width: 1400, height: 1000 });
const [phone, mobile] = await browser({ width: 390, height: 844 });
try {
  // 1. No outlines installed: the map draws the cities as points.
  await login(page, 'admin', 'admin-password');
  await page.waitForSelector('#ranking tr[data-city]');
  await page.waitForFunction(() => document.getElementById('map').dataset.kind);
  await page.waitForTimeout(800);
  await page.locator('#map').screenshot({ path: join(shots, 'map-points.png') });
  await step('points', { map: await mapState(page, 'map') });

  // 2. Outlines imported and the server restarted: the same browser is still
  // logged in, and the overview draws a choropleth captioned as a schematic.
  await page.reload();
  await page.waitForSelector('#ranking tr[data-city]');
  const loginShown = await page.isVisible('#login');
  await page.waitForFunction(() => document.getElementById('map').dataset.kind === 'outlines');
  await page.selectOption('#map-stat', 'pm25');
  await page.waitForFunction(() => echarts.getInstanceByDom(document.getElementById('map')).getOption().title[0].text.includes('PM2.5'));
  await page.waitForTimeout(1000);
  const pm25 = await mapState(page, 'map');
  const pieces = await page.evaluate(() => echarts.getInstanceByDom(document.getElementById('map')).getOption().visualMap[0].pieces.map((p) => p.lte));
  await page.screenshot({ path: join(shots, 'overview-map.png'), fullPage: true });
  await page.click('#ranking tr[data-city="宜宾"] a');
  await page.waitForFunction(() => document.getElementById('city-map').dataset.kind === 'outlines');
  await page.waitForTimeout(1000);
  const cityMap = await mapState(page, 'city-map');
  await page.locator('#city-map').screenshot({ path: join(shots, 'city-map.png') });
  // One's own sessions: this browser's, marked current.
  await page.click('#who');
  await page.waitForSelector('#sessions tr[data-session]');
  const sessions = await page.$$eval('#sessions tr[data-session]', (trs) => trs.map((tr) => ({ current: tr.classList.contains('current'), cells: tr.cells.length })));
  await page.screenshot({ path: join(shots, 'sessions.png') });

  // 3. A city officer on a phone: the city page, then progress on task 46.
  await login(mobile, 'yibin', 'yibin-password');
  await mobile.evaluate(() => { location.hash = '#/city/宜宾'; });
  await mobile.waitForFunction(() => document.getElementById('city-title').textContent.startsWith('宜宾'));
  await mobile.waitForTimeout(1200);
  const phoneWidth = await mobile.evaluate(() => document.documentElement.scrollWidth);
  const calendarOrient = await mobile.evaluate(() => echarts.getInstanceByDom(document.getElementById('calendar')).getOption().calendar[0].orient);
  await mobile.screenshot({ path: join(shots, 'city-phone.png'), fullPage: true });
  await mobile.evaluate(() => { location.hash = '#/tasks/46'; });
  await mobile.waitForSelector('#task-progress tr:nth-child(2)');
  const before = await mobile.$$eval('#task-progress tr', (trs) => trs.length);
  await mobile.fill('#progress-form input[name=date]', '2022-02-20');
  await mobile.fill('#progress-form textarea[name=text]', '手机填报：宜宾市完成重点工地扬尘巡查');
  await mobile.click('#progress-form button[type=submit]');
  await mobile.waitForFunction((n) => document.querySelectorAll('#task-progress tr').length === n + 1, before);
  const taskWidth = await mobile.evaluate(() => document.documentElement.scrollWidth);
  await mobile.locator('#progress-form').scrollIntoViewIfNeeded();
  await mobile.screenshot({ path: join(shots, 'task-phone.png') });
  await step('restarted', { login_shown: loginShown, sessions, pm25, pieces, city_map: cityMap, phone_width: phoneWidth,
    task_width: taskWidth, calendar_orient: calendarOrient, progress_rows: [before, before + 1] });

  // 4. The officer's account disabled from the command line: refused within the
  // servers' 2 s recheck, and the page falls back to the login form.
  // A server trusts a session it has checked for 2 s (SESSION_RECHECK): give it 5.
  for (let i = 0; i < 10 && !(await mobile.isVisible('#login')); i++) {
    await mobile.waitForTimeout(500);
    await mobile.reload();
    await mobile.waitForTimeout(200);
  }
  const status = await mobile.evaluate(async () => (await fetch('/api/me', { credentials: 'same-origin' })).status);
  await step('disabled', { login_shown: await mobile.isVisible('#login'), me_status: status });
} finally {
  await desk.close();
  await phone.close();
}
