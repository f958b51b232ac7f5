// lantian dashboard: Chinese first, English on demand. Numbers come from
// /api/overview, the same rows as `lantian assess --compare previous-year`;
// each cell's title says how it was computed.
'use strict';

const I18N = {
  zh: {
    title: '蓝天 · 环境空气质量考核', from: '起', to: '止', apply: '查询', logout: '退出', login: '登录',
    user: '用户名', password: '密码', signin: '登录', regions: '区域', ranking: '各市（州）综合指数排名',
    lang: 'English', rank: '排名', city: '城市', region: '区域', composite: '综合指数', change: '同比', main: '主要污染物',
    pm25: 'PM2.5', pm10: 'PM10', good: '优良天数比例%', heavy: '重污染天数', valid: '有效天数',
    badLogin: '用户名或密码错误', period: (a, b) => `${a} 至 ${b}`, mapTitle: '综合指数（颜色越深越差）',
    method: '计算方法', edition: '标准版本', days: '有效天数',
  },
  en: {
    title: 'lantian · Air quality accountability', from: 'From', to: 'To', apply: 'Show', logout: 'Log out', login: 'Log in',
    user: 'User', password: 'Password', signin: 'Log in', regions: 'Regions', ranking: 'Cities ranked by composite index',
    lang: '中文', rank: 'Rank', city: 'City', region: 'Region', composite: 'Composite index', change: 'YoY', main: 'Main pollutant',
    pm25: 'PM2.5', pm10: 'PM10', good: 'Good days %', heavy: 'Heavy days', valid: 'Valid days',
    badLogin: 'Wrong name or password', period: (a, b) => `${a} to ${b}`, mapTitle: 'Composite index (darker is worse)',
    method: 'Method', edition: 'Edition', days: 'valid days',
  },
};
let lang = localStorage.getItem('lantian-lang') || 'zh';
let me = null;
let chart = null;
let last = null;
const $ = (id) => document.getElementById(id);
const t = (k) => I18N[lang][k];

async function api(path, opts = {}) {
  const headers = { 'Content-Type': 'application/json' };
  if (me && opts.method && opts.method !== 'GET') headers['X-CSRF-Token'] = me.csrf;
  const r = await fetch(path, { credentials: 'same-origin', ...opts, headers });
  const body = await r.json().catch(() => ({}));
  if (!r.ok) throw Object.assign(new Error(body.error || r.statusText), { status: r.status });
  return body;
}

function applyLang() {
  document.documentElement.lang = lang === 'zh' ? 'zh-CN' : 'en';
  document.querySelectorAll('[data-i18n]').forEach((e) => { e.textContent = t(e.dataset.i18n); });
  $('lang').textContent = t('lang');
  if (last) render(last);
}

function cell(v, digits, title, cls) {
  const td = document.createElement('td');
  td.className = 'num' + (cls ? ' ' + cls : '');
  td.textContent = v === null || v === undefined ? '—' : Number(v).toFixed(digits);
  if (title) td.title = title;
  return td;
}

function text(v) {
  const td = document.createElement('td');
  td.textContent = v ?? '';
  return td;
}

function header(table, cols) {
  table.innerHTML = '';
  const tr = document.createElement('tr');
  cols.forEach((c) => { const th = document.createElement('th'); th.textContent = c; tr.appendChild(th); });
  table.appendChild(tr);
}

function changeClass(v) {
  return v > 0 ? 'up' : v < 0 ? 'down' : '';
}

function render(d) {
  $('period-title').textContent = t('period')(d.from, d.to);
  const how = (r) => `${d.from}—${d.to} · ${t('edition')} ${d.edition} · ${r.valid_days} ${t('days')} / ${r.days}`;
  const ranking = $('ranking');
  header(ranking, [t('rank'), t('city'), t('composite'), t('change') + ' %', t('main'), t('pm25'), t('change') + ' %', t('pm10'), t('good'), t('heavy')]);
  const rows = d.cities.slice().sort((a, b) => (a.rank ?? 999) - (b.rank ?? 999));
  rows.forEach((r) => {
    const tr = document.createElement('tr');
    tr.dataset.city = r.city;
    tr.appendChild(cell(r.rank, 0));
    tr.appendChild(text(r.city));
    tr.appendChild(cell(r.composite_index, 2, how(r)));
    tr.appendChild(cell(r.composite_index_change, 1, undefined, changeClass(r.composite_index_change)));
    tr.appendChild(text(r.main_pollutant));
    tr.appendChild(cell(r.pm25, 0, how(r)));
    tr.appendChild(cell(r.pm25_change, 1, undefined, changeClass(r.pm25_change)));
    tr.appendChild(cell(r.pm10, 0, how(r)));
    tr.appendChild(cell(r.good_ratio, 1, how(r)));
    tr.appendChild(cell(r.heavy_days, 0, how(r)));
    ranking.appendChild(tr);
  });
  const regions = $('regions');
  header(regions, [t('region'), t('pm25'), t('good'), t('heavy')]);
  d.regions.forEach((r) => {
    const tr = document.createElement('tr');
    tr.appendChild(text(r.city));
    tr.appendChild(cell(r.pm25, 0, how(r)));
    tr.appendChild(cell(r.good_ratio, 1, how(r)));
    tr.appendChild(cell(r.heavy_days, 0, how(r)));
    regions.appendChild(tr);
  });
  $('method').textContent = `${t('method')}: ${d.method[lang]}`;
  drawMap(d);
}

function drawMap(d) {
  if (!chart) chart = echarts.init($('map'));
  const pts = d.cities.filter((r) => d.places[r.city]).map((r) => ({
    name: r.city, value: [...d.places[r.city], r.composite_index, r.rank],
  }));
  chart.setOption({
    title: { text: t('mapTitle'), left: 'center', textStyle: { fontSize: 14 } },
    tooltip: { formatter: (p) => `${p.name}<br>${t('composite')} ${p.value[2] ?? '—'} · ${t('rank')} ${p.value[3] ?? '—'}` },
    xAxis: { type: 'value', scale: true, name: '°E' },
    yAxis: { type: 'value', scale: true, name: '°N' },
    visualMap: { min: Math.min(...pts.map((p) => p.value[2] ?? 0)), max: Math.max(...pts.map((p) => p.value[2] ?? 0)), dimension: 2, inRange: { color: ['#00e400', '#ffff00', '#ff7e00', '#ff0000'] }, right: 0, bottom: 10, calculable: false },
    series: [{ type: 'scatter', symbolSize: 18, data: pts, label: { show: true, formatter: '{b}', position: 'right', fontSize: 11 } }],
  }, true);
}

async function load() {
  const from = $('from').value;
  const to = $('to').value;
  last = await api(`/api/overview?from=${from}&to=${to}`);
  render(last);
}

async function start() {
  $('login-view').hidden = true;
  $('overview-view').hidden = false;
  $('nav').hidden = false;
  $('who').textContent = `${me.name}（${me.role}${me.city ? ' · ' + me.city : ''}）`;
  if (!$('from').value) {
    $('to').value = me.data_to || new Date().toISOString().slice(0, 10);
    $('from').value = $('to').value.slice(0, 8) + '01';
  }
  await load();
}

$('login').addEventListener('submit', async (e) => {
  e.preventDefault();
  $('login-error').textContent = '';
  try {
    me = await api('/api/login', { method: 'POST', body: JSON.stringify({ name: $('name').value, password: $('password').value }) });
    me = await api('/api/me');
    await start();
  } catch (err) {
    $('login-error').textContent = err.status === 401 ? t('badLogin') : err.message;
  }
});
$('apply').addEventListener('click', () => load().catch((e) => alert(e.message)));
$('lang').addEventListener('click', () => { lang = lang === 'zh' ? 'en' : 'zh'; localStorage.setItem('lantian-lang', lang); applyLang(); });
$('logout').addEventListener('click', async () => { await api('/api/logout', { method: 'POST' }).catch(() => {}); location.reload(); });
window.addEventListener('resize', () => chart && chart.resize());

applyLang();
api('/api/me').then((m) => { me = m; return start(); }).catch(() => {});
