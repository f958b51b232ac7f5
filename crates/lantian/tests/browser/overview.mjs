// Log in, read the overview's ranking for two periods, switch to English,
// take screenshots. Prints what the page shows as JSON for the Rust test
// (crates/lantian/tests/browser.rs) to compare with `lantian assess`.
//   node overview.mjs URL USER PASSWORD SCREENSHOT_DIR
import { chromium } from 'playwright-core';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const [url, user, password, shots] = process.argv.slice(2);
const profile = mkdtempSync(join(tmpdir(), 'lantian-chromium-'));
const ctx = await chromium.launchPersistentContext(profile, {
  executablePath: '/usr/bin/chromium',
  headless: true,
  viewport: { width: 1400, height: 1000 },
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const page = ctx.pages()[0] ?? await ctx.newPage();
// Waits are for the page, not a time limit: a debug-build server on two
// busy cores once took longer than Playwright's default 30 s to re-render.
ctx.setDefaultTimeout(120_000);
const out = {};
try {
  await page.goto(url);
  await page.waitForSelector('#login');
  await page.screenshot({ path: join(shots, 'login.png') });
  // A wrong password is refused with a message.
  await page.fill('#name', user);
  await page.fill('#password', 'wrong-password');
  await page.click('#login button[type=submit]');
  await page.waitForFunction(() => document.getElementById('login-error').textContent.length > 0);
  out.bad_login = await page.textContent('#login-error');
  await page.fill('#password', password);
  await page.click('#login button[type=submit]');
  await page.waitForSelector('#ranking tr[data-city]');
  const rows = () => page.$$eval('#ranking tr[data-city]', (trs) => trs.map((tr) => {
    // A † marks a number that differs on the other basis.
    const td = [...tr.querySelectorAll('td')].map((c) => c.textContent.replace('†', ''));
    return { city: tr.dataset.city, rank: td[0], composite: td[2], main: td[5], pm25: td[6], good: td[10] };
  }));
  out.first = { title: await page.textContent('#period-title'), rows: await rows() };
  out.how = await page.getAttribute('#ranking tr[data-city="成都"] td:nth-child(3)', 'title');
  // Numbers that differ on the other basis are marked.
  out.marked = await page.$$eval('#ranking td.differs', (tds) => tds.map((td) => td.closest('tr').dataset.city));
  out.marked_title = await page.getAttribute('#ranking tr[data-city="成都"] td.differs', 'title');
  out.basis_note = await page.textContent('#basis');
  await page.waitForTimeout(500);
  await page.screenshot({ path: join(shots, 'overview.png'), fullPage: true });
  // The values switch: raw real-time data.
  await page.selectOption('#values', 'raw');
  await page.waitForFunction(() => document.getElementById('basis').textContent.includes('原始'));
  out.raw = { basis: await page.textContent('#basis'), rows: await rows() };
  await page.screenshot({ path: join(shots, 'overview-raw.png'), fullPage: true });
  await page.selectOption('#values', 'best');
  await page.waitForFunction(() => document.getElementById('basis').textContent.includes('审核'));
  // Change the period.
  await page.fill('#from', '2019-01-01');
  await page.fill('#to', '2019-12-31');
  await page.click('#apply');
  await page.waitForFunction(() => document.getElementById('period-title').textContent.includes('2019-01-01'));
  out.year = { title: await page.textContent('#period-title'), rows: await rows() };
  // Cities whose capture falls short are marked; the mark's title says which months and pollutants.
  out.capture = await page.$$eval('#ranking tr[data-city] .capture-short', (ms) => ms.map((m) => ({ city: m.closest('tr').dataset.city, title: m.title })));
  // A city's page from the ranking.
  await page.click('#ranking tr[data-city="成都"] a');
  await page.waitForSelector('#city-stations tr:nth-child(2)');
  out.city = { title: await page.textContent('#city-title'), summary: await page.textContent('#city-summary'),
    targets: await page.$$eval('#city-targets tr[data-indicator]', (trs) => trs.map((tr) => tr.dataset.indicator)),
    target_names: await page.$$eval('#city-targets tr[data-indicator]', (trs) => trs.map((tr) => tr.cells[0].textContent)),
    station_hours: await page.$$eval('#city-stations tr[data-station]', (trs) => trs.map((tr) => tr.cells[2].textContent)),
    absent: await page.textContent('#city-stations-absent') };
  await page.waitForTimeout(500);
  await page.screenshot({ path: join(shots, 'city.png'), fullPage: true });
  await page.click('a[href="#/overview"]');
  await page.waitForSelector('#ranking tr[data-city]');
  // English.
  await page.click('#lang');
  out.english_heading = await page.textContent('[data-i18n=ranking]');
  await page.waitForTimeout(300);
  await page.screenshot({ path: join(shots, 'overview-en.png'), fullPage: true });
  await page.click('#lang');
  // The actions ledger: acknowledge the first open action.
  await page.click('a[href="#/actions"]');
  await page.waitForSelector('#actions tr[data-action]');
  out.actions = await page.$$eval('#actions tr[data-action]', (trs) => trs.length);
  const first = await page.getAttribute('#actions tr[data-action]', 'data-action');
  await page.click(`#actions tr[data-action="${first}"] button`);
  await page.waitForFunction((id) => document.querySelector(`#actions tr[data-action="${id}"]`)?.textContent.includes('已签收'), first);
  out.acknowledged = first;
  await page.screenshot({ path: join(shots, 'actions.png') });
  // Rectification tasks: open No. 46 and report progress with a file.
  await page.click('a[href="#/tasks"]');
  await page.waitForSelector('#tasks tr[data-task]');
  await page.click('#tasks tr[data-task="46"] a');
  await page.waitForSelector('#task-progress tr:nth-child(2)');
  const before = await page.$$eval('#task-progress tr', (trs) => trs.length);
  await page.fill('#progress-form input[name=date]', '2022-01-15');
  await page.selectOption('#measure-select', '2');
  await page.fill('#progress-form textarea[name=text]', '浏览器测试：完成柴油货车抽查');
  await page.fill('#progress-form input[name=indicator]', '柴油货车抽查=1200 辆次');
  await page.setInputFiles('#progress-form input[name=evidence]', { name: '抽查记录.pdf', mimeType: 'application/pdf', buffer: Buffer.from('%PDF-1.4 test') });
  await page.click('#progress-form button[type=submit]');
  await page.waitForFunction((n) => document.querySelectorAll('#task-progress tr').length === n + 1, before);
  out.progress_rows = [before, await page.$$eval('#task-progress tr', (trs) => trs.length)];
  out.last_progress = await page.$$eval('#task-progress tr', (trs) => trs[trs.length - 1].textContent);
  await page.screenshot({ path: join(shots, 'task.png'), fullPage: true });
  // A new task written on the web, then edited.
  await page.click('a[href="#/tasks"]');
  await page.click('#task-new');
  await page.waitForSelector('#taskedit-view:not([hidden])');
  const f = (name) => `#task-form [name=${name}]`;
  // A number in use is refused by the ledger's validation, shown on the form.
  await page.fill(f('number'), '46');
  await page.fill(f('title'), '浏览器测试：成都市扬尘污染专项整治');
  await page.fill(f('source'), '浏览器测试 第1项');
  await page.fill(f('problem'), '建筑工地扬尘管控不到位');
  await page.fill(f('units'), '成都市人民政府\n成都市住房和城乡建设局');
  await page.fill(f('cities'), '成都');
  await page.fill(f('goal'), '2019年PM2.5年均浓度达到年度目标');
  await page.fill(f('goal_year'), '2019');
  await page.fill(f('deadline'), '2019-12-31');
  await page.fill(f('measures'), '开展工地扬尘专项检查\n渣土车密闭运输');
  await page.click('#task-form button[type=submit]');
  await page.waitForFunction(() => document.getElementById('task-form-msg').textContent.length > 0);
  out.task_refused = await page.textContent('#task-form-msg');
  await page.fill(f('number'), '901');
  await page.screenshot({ path: join(shots, 'task-new.png'), fullPage: true });
  await page.click('#task-form button[type=submit]');
  await page.waitForFunction(() => location.hash === '#/tasks/901' && document.getElementById('task-title').textContent.startsWith('901'));
  await page.click('#task-edit-link');
  // Loaded: the number is read-only (set before the task is fetched) and
  // filled again (a reset empties it first); typing earlier raced the load.
  await page.waitForFunction(() => {
    const el = document.getElementById('task-form').elements;
    return el.number.readOnly && el.number.value === '901' && el.title.value.includes('扬尘');
  });
  await page.fill(f('measures'), '开展工地扬尘专项检查\n渣土车密闭运输\n道路机扫水洗');
  await page.fill(f('deadline'), '2020-06-30');
  await page.click('#task-form button[type=submit]');
  await page.waitForFunction(() => location.hash === '#/tasks/901' && document.getElementById('task-fields').textContent.includes('道路机扫水洗'));
  out.task_created = await page.textContent('#task-fields');
  // Reports: download the notice.
  await page.click('a[href="#/reports"]');
  await page.fill('#report-month', '2019-07');
  await page.dispatchEvent('#report-month', 'change');
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#notice-docx')]);
  const path = join(shots, download.suggestedFilename());
  await download.saveAs(path);
  out.download = download.suggestedFilename();
  // The weekly notice of an ISO week.
  await page.fill('#report-week', '2019-W30');
  await page.dispatchEvent('#report-week', 'change');
  const [week] = await Promise.all([page.waitForEvent('download'), page.click('#week-docx')]);
  out.week_download = week.suggestedFilename();
  // The daily briefing workbook of a day.
  await page.fill('#report-day', '2019-07-15');
  await page.dispatchEvent('#report-day', 'change');
  const [daily] = await Promise.all([page.waitForEvent('download'), page.click('#daily-xlsx')]);
  out.daily_download = daily.suggestedFilename();
  await page.screenshot({ path: join(shots, 'reports.png') });
  // Import: a long CSV with one bad row; its reject is shown with file, line and reason.
  await page.click('a[href="#/import"]');
  await page.setInputFiles('#import-form input[type=file]', { name: '补录数据.csv', mimeType: 'text/csv',
    buffer: Buffer.from('station,time,pollutant,value\n1431A,2019-07-01T01:00,pm25,35\n1431A,2019-07-01T02:00,pm25,abc\n') });
  await page.click('#import-form button[type=submit]');
  await page.waitForFunction(() => ['完成', 'done'].includes(document.getElementById('import-state').textContent));
  out.import_rejects = await page.$$eval('#import-rejects tr.reject', (trs) => trs.map((tr) => tr.textContent));
  await page.screenshot({ path: join(shots, 'import.png') });
  // Data screening: the findings of the year, a finding's chart, a dismissal with a note.
  await page.fill('#from', '2019-01-01');
  await page.fill('#to', '2019-12-31');
  await page.click('a[href="#/screen"]');
  await page.waitForSelector('#findings tr[data-finding]');
  await page.fill('#screen-city', '广安');
  await page.selectOption('#screen-check', 'stuck');
  await page.click('#screen-filters button[type=submit]');
  await page.waitForFunction(() => {
    const rows = [...document.querySelectorAll('#findings tr[data-finding]')];
    return rows.length > 0 && rows.every((tr) => tr.dataset.city === '广安' && tr.dataset.finding.includes('-stuck-'));
  });
  await page.click('#findings tr[data-finding="2543A-stuck-pm25-2019010912"]');
  await page.waitForFunction(() => document.getElementById('finding-detail').dataset.finding === '2543A-stuck-pm25-2019010912');
  await page.waitForTimeout(400);
  out.screen = {
    summary: await page.textContent('#screen-summary'),
    rows: await page.$$eval('#findings tr[data-finding]', (trs) => trs.map((tr) => tr.dataset.finding)),
    title: await page.textContent('#finding-title'),
    evidence: await page.textContent('#finding-evidence'),
    buttons: await page.$$eval('#finding-review button', (bs) => bs.map((b) => b.textContent)),
  };
  await page.screenshot({ path: join(shots, 'screen.png'), fullPage: true });
  const alerts = [];
  page.on('dialog', (d) => { if (d.type() === 'prompt') d.accept('浏览器测试：现场核查为仪器故障'); else { alerts.push(d.message()); d.dismiss(); } });
  await page.click('#finding-review button:nth-child(2)');
  await page.waitForFunction(() => !document.querySelector('#findings tr[data-finding="2543A-stuck-pm25-2019010912"]'));
  out.screen.alerts = alerts;
  out.screen.after = await page.$$eval('#findings tr[data-finding]', (trs) => trs.map((tr) => tr.dataset.finding));
} finally {
  await ctx.close();
}
console.log(JSON.stringify(out));
