// lantian dashboard: Chinese first, English on demand. Numbers come from
// /api/overview, the same rows as `lantian assess --compare previous-year`;
// each cell's title says how it was computed.
'use strict';

const I18N = {
  zh: {
    title: '蓝天 · 环境空气质量考核', from: '起', to: '止', apply: '查询', logout: '退出', login: '登录',
    user: '用户名', password: '密码', signin: '登录', regions: '区域', ranking: '各市（州）综合指数排名',
    lang: 'English', vs3y: '较三年均值', note: '说明（可空）', stationsUsed: '所用站点', captureOk: '数据有效性达标', rank: '排名', city: '城市', region: '区域', composite: '综合指数', change: '同比', main: '主要污染物',
    pm25: 'PM2.5', pm10: 'PM10', good: '优良天数比例%', heavy: '重污染天数', valid: '有效天数',
    badLogin: '用户名或密码错误', period: (a, b) => `${a} 至 ${b}`, mapStat: '地图指标',
    map_composite: '综合指数', map_pm25: 'PM2.5 平均浓度（微克/立方米，按日均值分级着色）', map_pm10: 'PM10 平均浓度（微克/立方米，按日均值分级着色）', map_good: '优良天数比例（%）',
    schematic: '示意图，不作为权属边界依据', cityMapTitle: '站点分布与数据获取率',
    method: '计算方法', edition: '标准版本', days: '有效天数',
    tabOverview: '总览', tabActions: '问责措施', tabTasks: '整改任务', tabReports: '报告', id: '编号', area: '地区',
    kind: '措施', periodCol: '期间', rule: '依据规则', status: '状态', amount: '金额(万元)', ops: '操作', ack: '签收', lift: '解除',
    liftReason: '解除理由', number: '编号', task: '整改任务', overdue: '逾期', yes: '是', no: '否', progress: '工作进展',
    addProgress: '填报工作进展', date: '日期', measure: '措施', author: '报送单位', text: '工作及成效',
    indicator: '量化指标（名称=数值 单位）', evidence: '佐证材料', submit: '提交', saved: '已提交', units: '整改责任单位',
    goal: '整改目标', problem: '问题', source: '来源', measures: '整改措施', wholeTask: '整体', month: '月份',
    noticeDocx: '下载通报（Word）', noticeXlsx: '下载通报（Excel）', week: '周', weekDocx: '下载周通报（Word）', weekXlsx: '下载周通报（Excel）', briefingDate: '简报日期', dailyXlsx: '下载每日会商简报（Excel）', dailyDocx: '下载每日会商简报（Word）',
    sessionsTitle: '我的登录会话', sessionsHint: '每个登录的浏览器一行；结束不认识的会话，该浏览器须重新登录。', created: '登录时间', lastSeen: '最近活动', expires: '到期', agent: '浏览器', address: '地址', current: '本浏览器', end: '结束', taskNo: '任务编号', completionDocx: '下载完成情况表（Word）',
    indicators: '量化指标', count: '进展条数',
    newTask: '新建整改任务', editTask: '修改任务', deadline: '完成时限', unitsLines: '整改责任单位（每行一个）', citiesLines: '涉及城市（每行一个）',
    goalYear: '目标考核年度（关联年度目标）', goalAreas: '考核地区（每行一个；空则为涉及城市）', measuresLines: '整改措施（每行一条，按顺序编号）', save: '保存',
    newTaskTitle: '新建整改任务', editTaskTitle: (n) => `修改整改任务 ${n}`,
    targets: '年度目标', stations: '站点数据获取率', stationName: '站点名称', tabImport: '导入', upload: '上传并导入', rejects: '拒收记录',
    running: '导入中', done: '完成', failed: '失败', importedCol: '新增小时值', revisedCol: '修订', unchangedCol: '未变', rejectedCol: '拒收', filesCol: '文件', calendarTitle: (y) => `${y}年逐日空气质量级别`, trendTitle: 'PM2.5月均浓度（微克/立方米）',
    ind_pm25: 'PM2.5 年均浓度', ind_pm10: 'PM10 年均浓度', ind_good_ratio: '优良天数比例', ind_heavy_days: '重污染天数', ind_pm25_ytd: 'PM2.5 累计浓度（常态化管控）',
    breakdownTitle: '单项指数', indicatorCol: '指标', soFar: '截至当日', target: '目标', budget: '余量', remaining: '剩余天数',
    absentStations: '本期未报送数据的站点（尚未建成、已停运或本期无数据），不列入上表', probability: '达标概率%', station: '站点', captureCol: '有效小时', capturePct: '获取率%', thisYear: '本年', lastYear: '上年',
    citySummary: (s) => `PM2.5 ${s.pm25 ?? '—'}，优良天数比例 ${s.good_ratio ?? '—'}%（${s.good_days}/${s.valid_days}），重污染 ${s.heavy_days} 天，综合指数 ${s.composite_index ?? '—'}`,
    valuesSwitch: '数值', valuesBest: '审核优先', valuesRaw: '原始（实时）', dustSwitch: '沙尘', dustDeducted: '扣除', dustIncluded: '不扣除',
    basis: '口径', otherBasis: (official) => (official ? '原始数据、不扣沙为' : '审核数据、扣沙后为'), differs: '†：两种口径数值不同（悬停查看）',
    captureShort: '数据有效性未达标（GB 3095 表4：每月至少27天、二月25天、全年324天有效日值）：',
    captureLine: (when, p, n, need) => `${when} ${p} 有效 ${n} 天 < ${need} 天`, monthName: (y, m) => `${y}年${m}月`, yearName: (y) => `${y}年全年`,
    tabScreen: '数据筛查', screenHint: '线索是核查的依据，不是结论：由省级人员核实后确认或排除（筛查原始数据，方法见 docs/INTEGRITY.md）。',
    checkCol: '筛查项', showDismissed: '含已排除', score: '评分', series: '项目', evidenceCol: '依据', allChecks: '全部',
    screenSummary: (d) => `筛查 ${d.stations} 个站点、${d.station_months} 个站点月，线索 ${d.findings.length} 条${d.stations_not_run ? `；${d.stations_not_run} 个站点有筛查项因缺少周边站点或数据不足未能运行` : ''}`,
    thisStation: '本站', neighbours: '周边站点中位数', confirm: '确认（数据有问题）', dismiss: '排除', reviewNote: '核查情况（必填：核查了什么、看到了什么）',
    invalidateAsk: '同时把这段数据在审核层置为无效（考核排名不再使用）？', statusOpen: '待核查', statusConfirmed: '已确认', statusDismissed: '已排除',
  },
  en: {
    title: 'lantian · Air quality accountability', from: 'From', to: 'To', apply: 'Show', logout: 'Log out', login: 'Log in',
    user: 'User', password: 'Password', signin: 'Log in', regions: 'Regions', ranking: 'Cities ranked by composite index',
    lang: '中文', vs3y: 'vs 3-yr mean', note: 'Note (optional)', stationsUsed: 'Stations used', captureOk: 'Capture rules met', rank: 'Rank', city: 'City', region: 'Region', composite: 'Composite index', change: 'YoY', main: 'Main pollutant',
    pm25: 'PM2.5', pm10: 'PM10', good: 'Good days %', heavy: 'Heavy days', valid: 'Valid days',
    badLogin: 'Wrong name or password', period: (a, b) => `${a} to ${b}`, mapStat: 'Map shows',
    map_composite: 'Composite index', map_pm25: 'PM2.5 mean (μg/m³, coloured by the daily AQI levels)', map_pm10: 'PM10 mean (μg/m³, coloured by the daily AQI levels)', map_good: 'Good-day ratio (%)',
    schematic: 'Schematic map, not an authoritative boundary', cityMapTitle: 'Stations and their data capture',
    method: 'Method', edition: 'Edition', days: 'valid days',
    tabOverview: 'Overview', tabActions: 'Actions', tabTasks: 'Rectification tasks', tabReports: 'Reports', id: 'ID', area: 'Area',
    kind: 'Action', periodCol: 'Period', rule: 'Rule', status: 'Status', amount: 'Amount (10k CNY)', ops: '', ack: 'Acknowledge', lift: 'Lift',
    liftReason: 'Reason for lifting', number: 'No.', task: 'Task', overdue: 'Overdue', yes: 'yes', no: 'no', progress: 'Progress',
    addProgress: 'Report progress', date: 'Date', measure: 'Measure', author: 'Reported by', text: 'Work and results',
    indicator: 'Indicator (NAME=VALUE UNIT)', evidence: 'Evidence files', submit: 'Submit', saved: 'Saved', units: 'Responsible units',
    goal: 'Goal', problem: 'Problem', source: 'Source', measures: 'Measures', wholeTask: 'whole task', month: 'Month',
    noticeDocx: 'Notice (Word)', noticeXlsx: 'Notice (Excel)', week: 'Week', weekDocx: 'Weekly notice (Word)', weekXlsx: 'Weekly notice (Excel)', briefingDate: 'Briefing date', dailyXlsx: 'Daily briefing (Excel)', dailyDocx: 'Daily briefing (Word)',
    sessionsTitle: 'My sessions', sessionsHint: 'One row per browser logged in; end one you do not recognise and that browser must log in again.', created: 'Logged in', lastSeen: 'Last active', expires: 'Expires', agent: 'Browser', address: 'Address', current: 'this browser', end: 'End', taskNo: 'Task No.', completionDocx: 'Completion table (Word)',
    indicators: 'Indicators', count: 'Entries',
    newTask: 'New rectification task', editTask: 'Edit task', deadline: 'Deadline', unitsLines: 'Responsible units (one per line)', citiesLines: 'Cities concerned (one per line)',
    goalYear: 'Targets year (links the goal to annual targets)', goalAreas: 'Areas judged (one per line; empty: the cities)', measuresLines: 'Measures (one per line, numbered in order)', save: 'Save',
    newTaskTitle: 'New rectification task', editTaskTitle: (n) => `Edit task ${n}`,
    targets: 'Annual targets', stations: 'Station data capture', stationName: 'Name', tabImport: 'Import', upload: 'Upload and import', rejects: 'Rejected rows',
    running: 'importing', done: 'done', failed: 'failed', importedCol: 'New hourly values', revisedCol: 'Revised', unchangedCol: 'Unchanged', rejectedCol: 'Rejected', filesCol: 'Files', calendarTitle: (y) => `Daily AQI level, ${y}`, trendTitle: 'PM2.5 by month (μg/m³)',
    ind_pm25: 'PM2.5 annual mean', ind_pm10: 'PM10 annual mean', ind_good_ratio: 'Good-day ratio', ind_heavy_days: 'Heavy-pollution days', ind_pm25_ytd: 'PM2.5 year to date (normalised control)',
    breakdownTitle: 'Single indexes', indicatorCol: 'Indicator', soFar: 'So far', target: 'Target', budget: 'Budget', remaining: 'Days left',
    absentStations: 'Stations that sent no data in this period (not yet built, closed, or silent), left out of the table above', probability: 'Probability %', station: 'Station', captureCol: 'Valid hours', capturePct: 'Capture %', thisYear: 'This year', lastYear: 'Last year',
    citySummary: (s) => `PM2.5 ${s.pm25 ?? '—'}, good days ${s.good_ratio ?? '—'}% (${s.good_days}/${s.valid_days}), heavy ${s.heavy_days} days, composite ${s.composite_index ?? '—'}`,
    valuesSwitch: 'Values', valuesBest: 'audited first', valuesRaw: 'raw (real-time)', dustSwitch: 'Sand-dust', dustDeducted: 'deducted', dustIncluded: 'included',
    basis: 'Basis', otherBasis: (official) => (official ? 'raw, dust included:' : 'official (audited, deducted):'), differs: '†: the two bases differ (hover to see)',
    captureShort: 'Capture short of GB 3095 Table 4 (27 valid days a month, 25 in February, 324 a year):',
    captureLine: (when, p, n, need) => `${when}: ${p} ${n} valid days < ${need}`, monthName: (y, m) => `${y}-${String(m).padStart(2, '0')}`, yearName: (y) => `year ${y}`,
    tabScreen: 'Data screening', screenHint: 'A finding is evidence to check, not a verdict: province staff confirm or dismiss it (raw data screened; method in docs/INTEGRITY.md).',
    checkCol: 'Check', showDismissed: 'dismissed too', score: 'Score', series: 'Series', evidenceCol: 'Evidence', allChecks: 'all',
    screenSummary: (d) => `${d.stations} stations, ${d.station_months} station-months screened, ${d.findings.length} findings${d.stations_not_run ? `; ${d.stations_not_run} stations had checks that could not run (no neighbours or too little data)` : ''}`,
    thisStation: 'This station', neighbours: 'Neighbours\' median', confirm: 'Confirm (data wrong)', dismiss: 'Dismiss', reviewNote: 'What was checked and seen (required)',
    invalidateAsk: 'Also invalidate these hours in the audited layer (the ranking stops using them)?', statusOpen: 'open', statusConfirmed: 'confirmed', statusDismissed: 'dismissed',
  },
};
let lang = localStorage.getItem('lantian-lang') || 'zh';
let me = null;
let chart = null;
let last = null;
const $ = (id) => document.getElementById(id);
const t = (k) => I18N[lang][k];

// The basis switches as query parameters (the official basis is the default).
function basisQuery() {
  return `values=${$('values').value}&dust=${$('dust').value}`;
}

// A number cell marked † with the other basis's value when the two differ.
function marked(td, mine, theirs, digits, official) {
  if (theirs === undefined || theirs === mine) return td;
  td.textContent += '†';
  td.classList.add('differs');
  td.title = `${td.title ? td.title + '\n' : ''}${t('otherBasis')(official)} ${theirs === null ? '—' : Number(theirs).toFixed(digits)}`;
  return td;
}

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

// Why capture fails, one line per month or year (the API's capture_failures).
const POLLUTANT = { so2: 'SO2', no2: 'NO2', pm10: 'PM10', co: 'CO', o3: 'O3-8h', pm25: 'PM2.5' };
function captureReasons(list) {
  return (list || []).map((f) => t('captureLine')(f.scope === 'month' ? t('monthName')(f.year, f.month) : t('yearName')(f.year), POLLUTANT[f.pollutant] || f.pollutant, f.present, f.needed));
}

function changeClass(v) {
  return v > 0 ? 'up' : v < 0 ? 'down' : '';
}

function render(d) {
  $('period-title').textContent = t('period')(d.from, d.to);
  // How a number was computed: period, edition, valid days, the stations behind it, capture.
  const how = (r) => [
    `${d.from}—${d.to}`, `${t('edition')} ${d.edition}`, `${r.valid_days} ${t('days')} / ${r.days}`,
    `${t('stationsUsed')}: ${(d.stations[r.city] || []).join(', ') || '—'}`,
    `${t('captureOk')}: ${r.capture_ok ? t('yes') : t('no')}`, ...captureReasons(r.capture_failures),
  ].join('\n');
  const ranking = $('ranking');
  header(ranking, [t('rank'), t('city'), t('composite'), t('change') + ' %', t('vs3y') + ' %', t('main'), t('pm25'), t('change') + ' %', t('vs3y') + ' %', t('pm10'), t('good'), t('heavy')]);
  const rows = d.cities.slice().sort((a, b) => (a.rank ?? 999) - (b.rank ?? 999));
  rows.forEach((r) => {
    const tr = document.createElement('tr');
    tr.dataset.city = r.city;
    tr.appendChild(cell(r.rank, 0));
    const name = document.createElement('td');
    const link = document.createElement('a');
    link.href = `#/city/${encodeURIComponent(r.city)}`;
    link.textContent = r.city;
    name.appendChild(link);
    // Capture short of GB 3095 Table 4's minimums: marked, the months and pollutants in the title.
    if (r.capture_failures && r.capture_failures.length) {
      const m = document.createElement('span');
      m.className = 'capture-short';
      m.textContent = '*';
      m.title = [t('captureShort'), ...captureReasons(r.capture_failures)].join('\n');
      name.appendChild(m);
    }
    tr.appendChild(name);
    const official = d.basis.values === 'best' && d.basis.dust === 'deducted';
    const o = r.other || {};
    tr.appendChild(marked(cell(r.composite_index, 2, how(r)), r.composite_index, o.composite_index, 2, official));
    tr.appendChild(cell(r.composite_index_change, 1, undefined, changeClass(r.composite_index_change)));
    tr.appendChild(cell(r.composite_change_3y, 1, r.composite_3y === null ? undefined : `${t('vs3y')}: ${r.composite_3y}`, changeClass(r.composite_change_3y)));
    tr.appendChild(text(r.main_pollutant));
    tr.appendChild(marked(cell(r.pm25, 0, how(r)), r.pm25, o.pm25, 0, official));
    tr.appendChild(cell(r.pm25_change, 1, undefined, changeClass(r.pm25_change)));
    tr.appendChild(cell(r.pm25_change_3y, 1, r.pm25_3y === null ? undefined : `${t('vs3y')}: ${r.pm25_3y}`, changeClass(r.pm25_change_3y)));
    tr.appendChild(marked(cell(r.pm10, 0, how(r)), r.pm10, o.pm10, 0, official));
    tr.appendChild(marked(cell(r.good_ratio, 1, how(r)), r.good_ratio, o.good_ratio, 1, official));
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
  const anyDiff = d.cities.some((r) => r.other && ['pm25', 'pm10', 'good_ratio', 'composite_index'].some((k) => r.other[k] !== r[k]));
  $('basis').textContent = `${t('basis')}: ${d.basis[lang]}${anyDiff ? '。' + t('differs') : ''}`;
  drawMap(d).catch((e) => console.error(e));
}

// City outlines (`lantian boundaries import`), fetched once: undefined until
// asked, null when none are installed (the map then draws points).
let outlines;
async function loadOutlines() {
  if (outlines === undefined) {
    outlines = await api('/api/boundaries').catch(() => null);
    if (outlines) echarts.registerMap('lantian-province', outlines);
  }
  return outlines;
}
const MAP_STATS = { composite: 'composite_index', pm25: 'pm25', pm10: 'pm10', good: 'good_ratio' };
// How the selected statistic is coloured: PM by the AQI level colours of the
// edition's 24-hour breakpoints (from the API), the rest on a scale.
function mapScale(d, stat, values) {
  if (stat === 'pm25' || stat === 'pm10') {
    const b = d.map_levels[stat];
    return { type: 'piecewise', pieces: b.map((hi, i) => ({ gt: i ? b[i - 1] : -1, lte: hi, color: LEVEL_COLOURS[i], label: `${i ? b[i - 1] : 0}–${hi}` })), left: 0, bottom: 10 };
  }
  const colours = ['#00e400', '#ffff00', '#ff7e00', '#ff0000'];
  const [lo, hi] = [Math.min(...values), Math.max(...values)];
  return { min: lo, max: hi, text: [String(hi), String(lo)], calculable: false, left: 0, bottom: 10,
    inRange: { color: stat === 'good' ? colours.slice().reverse() : colours } };
}
function schematicNote(o) { return o && o.lantian && o.lantian.schematic ? t('schematic') : ''; }

async function drawMap(d) {
  if (!chart) {
    chart = echarts.init($('map'));
    chart.on('click', (p) => { if (p.name && d.cities.some((r) => r.city === p.name)) location.hash = `#/city/${encodeURIComponent(p.name)}`; });
  }
  const stat = $('map-stat').value;
  const key = MAP_STATS[stat];
  const o = await loadOutlines();
  const vals = d.cities.filter((r) => r[key] !== null && r[key] !== undefined);
  const title = { text: t(`map_${stat}`), subtext: schematicNote(o), left: 'center', textStyle: { fontSize: 14 }, subtextStyle: { color: '#6b7280' } };
  const tooltip = { formatter: (p) => { const r = d.cities.find((x) => x.city === p.name); return r ? `${p.name}<br>${t(`map_${stat}`)} ${r[key] ?? '—'} · ${t('rank')} ${r.rank ?? '—'}` : p.name; } };
  const visualMap = mapScale(d, stat, vals.map((r) => r[key]));
  $('map').dataset.kind = o ? 'outlines' : 'points';
  if (o) {
    chart.setOption({
      title, tooltip, visualMap,
      series: [{ type: 'map', map: 'lantian-province', roam: false, top: 50, bottom: 20, label: { show: true, fontSize: 10 },
        emphasis: { label: { show: true } }, data: vals.map((r) => ({ name: r.city, value: r[key] })) }],
    }, true);
    return;
  }
  const pts = vals.filter((r) => d.places[r.city]).map((r) => ({ name: r.city, value: [...d.places[r.city], r[key]] }));
  chart.setOption({
    title, tooltip, visualMap: { ...visualMap, dimension: 2 },
    xAxis: { type: 'value', scale: true, name: '°E' },
    yAxis: { type: 'value', scale: true, name: '°N' },
    series: [{ type: 'scatter', symbolSize: 18, data: pts, label: { show: true, formatter: '{b}', position: 'right', fontSize: 11 } }],
  }, true);
}

// A city's outline with its stations (coloured by data capture); without
// outlines, the stations alone on longitude and latitude.
async function drawCityMap(d) {
  const o = await loadOutlines();
  const el = chartOf('city-map');
  const feature = o && o.features.find((f) => f.properties.name === d.city);
  const pts = d.stations.filter((x) => x.hours > 0 && x.lon !== null && x.lat !== null)
    .map((x) => ({ name: `${x.name || x.station} (${x.station})`, value: [x.lon, x.lat, x.capture_pct] }));
  const title = { text: t('cityMapTitle'), subtext: feature ? schematicNote(o) : '', left: 'center', textStyle: { fontSize: 14 }, subtextStyle: { color: '#6b7280' } };
  const tooltip = { formatter: (p) => (p.value && p.value.length ? `${p.name}<br>${t('capturePct')} ${p.value[2]}` : p.name) };
  const visualMap = { min: 0, max: 100, dimension: 2, inRange: { color: ['#ff0000', '#ff7e00', '#00a0e4'] }, calculable: false, left: 0, bottom: 0, text: [t('capturePct'), ''] };
  $('city-map').dataset.kind = feature ? 'outlines' : 'points';
  if (feature) {
    const name = `lantian-city-${d.city}`;
    echarts.registerMap(name, { type: 'FeatureCollection', features: [feature] });
    el.setOption({ title, tooltip, visualMap, geo: { map: name, roam: true, top: 50, bottom: 30, itemStyle: { areaColor: '#eef2f7', borderColor: '#64748b' }, label: { show: false } },
      series: [{ type: 'scatter', coordinateSystem: 'geo', symbolSize: 12, data: pts }] }, true);
  } else {
    el.setOption({ title, tooltip, visualMap, xAxis: { type: 'value', scale: true, name: '°E' }, yAxis: { type: 'value', scale: true, name: '°N' },
      series: [{ type: 'scatter', symbolSize: 12, data: pts }] }, true);
  }
}

async function load() {
  const from = $('from').value;
  const to = $('to').value;
  last = await api(`/api/overview?from=${from}&to=${to}&${basisQuery()}`);
  render(last);
}

const VIEWS = ['overview', 'city', 'actions', 'tasks', 'task', 'taskedit', 'reports', 'import', 'screen', 'sessions'];

function show(view) {
  VIEWS.forEach((v) => { $(`${v}-view`).hidden = v !== view; });
  document.querySelectorAll('#tabs a').forEach((a) => a.classList.toggle('active', a.getAttribute('href') === `#/${['task', 'taskedit'].includes(view) ? 'tasks' : view}`));
}

async function route() {
  if (!me) return;
  const [, view, arg, sub] = (location.hash || '#/overview').split('/');
  if (view === 'city' && arg) { show('city'); await loadCity(decodeURIComponent(arg)); }
  else if (view === 'tasks' && (arg === 'new' || sub === 'edit')) { show('taskedit'); await editTask(arg === 'new' ? null : arg); }
  else if (view === 'actions') { show('actions'); await loadActions(); }
  else if (view === 'tasks' && arg) { show('task'); await loadTask(arg); }
  else if (view === 'tasks') { show('tasks'); await loadTasks(); }
  else if (view === 'reports') { show('reports'); reportLinks(); }
  else if (view === 'import') { show('import'); }
  else if (view === 'sessions') { show('sessions'); await loadSessions(); }
  else if (view === 'screen') { show('screen'); await loadScreen(); }
  else { show('overview'); if (!last) await load(); }
}

const writes = () => me && me.role !== 'viewer';

async function loadActions() {
  const list = await api('/api/actions');
  const table = $('actions');
  header(table, [t('id'), t('area'), t('kind'), t('periodCol'), t('rule'), t('status'), t('amount'), t('ops')]);
  const KINDS = { notice: '通报', reminder_letter: '提醒函', warning_letter: '警示函', interview: '约谈', fund_deduction: '扣缴资金', approval_restriction: '区域限批', data_verification: '数据核查' };
  const STATUS = { open: '执行中', acknowledged: '已签收', lifted: '已解除' };
  list.forEach((a) => {
    const tr = document.createElement('tr');
    tr.dataset.action = a.id;
    [a.id, a.area, lang === 'zh' ? (KINDS[a.kind] || a.kind) : a.kind, a.period].forEach((x) => tr.appendChild(text(x)));
    const rule = text(a.rule_name); rule.className = 'left'; rule.title = JSON.stringify(a.evidence?.reasons ?? a.evidence ?? ''); tr.appendChild(rule);
    tr.appendChild(text(lang === 'zh' ? (STATUS[a.status] || a.status) : a.status));
    tr.appendChild(cell(a.amount, 2));
    const ops = document.createElement('td');
    if (writes() && a.status === 'open') ops.appendChild(button(t('ack'), () => changeAction(a.id, 'ack')));
    if (['admin', 'analyst'].includes(me.role) && a.status !== 'lifted') ops.appendChild(button(t('lift'), () => {
      const reason = prompt(t('liftReason'));
      if (reason) changeAction(a.id, 'lift', reason);
    }));
    tr.appendChild(ops);
    table.appendChild(tr);
  });
}

const narrow = () => window.matchMedia('(max-width: 640px)').matches;
const LEVEL_COLOURS = ['#00e400', '#ffff00', '#ff7e00', '#ff0000', '#99004c', '#7e0023'];
const charts = {};
function chartOf(id) { charts[id] = charts[id] || echarts.init($(id)); return charts[id]; }

async function loadCity(name) {
  const year = ($('to').value || '2019').slice(0, 4);
  const d = await api(`/api/cities/${encodeURIComponent(name)}?year=${year}&${basisQuery()}`);
  $('city-title').textContent = `${d.city} · ${d.year}`;
  $('city-summary').textContent = t('citySummary')(d.year_stats);
  const short = d.year_stats.capture_failures || [];
  $('city-summary').title = short.length ? [t('captureShort'), ...captureReasons(short)].join('\n') : '';
  if (short.length) $('city-summary').textContent += ` *`;
  $('city-basis').textContent = `${t('basis')}: ${d.basis[lang]}`;
  // Short level names on a phone, so the six fit on one line.
  const cats = lang === 'zh'
    ? (narrow() ? ['优', '良', '轻度', '中度', '重度', '严重'] : ['优', '良', '轻度污染', '中度污染', '重度污染', '严重污染'])
    : (narrow() ? ['Exc.', 'Good', 'Light', 'Mod.', 'Heavy', 'Sev.'] : ['Excellent', 'Good', 'Light', 'Moderate', 'Heavy', 'Severe']);
  chartOf('calendar').setOption({
    title: { text: t('calendarTitle')(d.year), left: 'center', textStyle: { fontSize: 14 } },
    tooltip: { formatter: (p) => `${p.value[0]} AQI ${p.value[1]} ${p.value[3] || ''}` },
    visualMap: { type: 'piecewise', dimension: 2, orient: 'horizontal', left: 'center', bottom: 0,
      pieces: cats.map((c, i) => ({ value: i + 1, label: c, color: LEVEL_COLOURS[i] })) },
    // On a phone the year runs down the screen (weeks as rows) so the days stay big enough to read.
    calendar: { range: String(d.year), ...(narrow() ? { orient: 'vertical', cellSize: ['auto', 13], top: 50, bottom: 70, left: 50, right: 20 } : { cellSize: ['auto', 14], top: 40, left: 40, right: 20 }),
      yearLabel: { show: false }, dayLabel: { nameMap: lang === 'zh' ? 'ZH' : 'EN' }, monthLabel: { nameMap: lang === 'zh' ? 'ZH' : 'EN' } },
    series: [{ type: 'heatmap', coordinateSystem: 'calendar', data: d.calendar.map((c) => [c.date, c.aqi, c.level, c.primary]) }],
  }, true);
  const months = Array.from({ length: 12 }, (_, i) => (lang === 'zh' ? `${i + 1}月` : String(i + 1)));
  chartOf('trend').setOption({
    title: { text: t('trendTitle'), left: 'center', textStyle: { fontSize: 14 } }, tooltip: { trigger: 'axis' },
    legend: { bottom: 0 }, xAxis: { type: 'category', data: months }, yAxis: { type: 'value' },
    series: [
      { name: t('thisYear'), type: 'line', data: d.pm25_by_month.this_year, connectNulls: false },
      { name: t('lastYear'), type: 'line', data: d.pm25_by_month.last_year, lineStyle: { type: 'dashed' }, connectNulls: false },
    ],
  }, true);
  chartOf('breakdown').setOption({
    title: { text: t('breakdownTitle'), left: 'center', textStyle: { fontSize: 14 } }, tooltip: {},
    xAxis: { type: 'category', data: d.breakdown.map((b) => b.pollutant) }, yAxis: { type: 'value' },
    series: [{ type: 'bar', data: d.breakdown.map((b) => b.single_index), label: { show: true, position: 'top' } }],
  }, true);
  const tt = $('city-targets');
  header(tt, [t('indicatorCol'), t('soFar'), t('target'), t('status'), t('budget'), t('remaining'), t('probability')]);
  d.targets.forEach((x) => {
    const tr = document.createElement('tr');
    tr.dataset.indicator = x.indicator;
    // Named as people say them; the stored key stays in data-indicator.
    tr.appendChild(text(t(`ind_${x.indicator}`) || x.indicator));
    tr.appendChild(cell(x.so_far, x.indicator === 'good_ratio' ? 1 : 0, `${d.as_of}`));
    tr.appendChild(cell(x.target, x.indicator === 'good_ratio' ? 1 : 0));
    tr.appendChild(text(lang === 'zh' ? x.status_zh : x.status));
    tr.appendChild(cell(x.budget, x.indicator.startsWith('pm') ? 1 : 0));
    tr.appendChild(cell(x.remaining_days, 0));
    tr.appendChild(cell(x.probability === null ? null : 100 * x.probability, 0, `${x.history_years}`));
    tt.appendChild(tr);
  });
  const st = $('city-stations');
  header(st, [t('station'), t('stationName'), t('captureCol'), t('capturePct')]);
  // Stations of the current list that sent nothing in the period (built
  // later, closed earlier) are named below the table, not listed as 0 %.
  const absent = d.stations.filter((x) => x.hours === 0);
  $('city-stations-absent').textContent = absent.length
    ? `${t('absentStations')}${lang === 'zh' ? '：' : ': '}${absent.map((x) => `${x.name || x.station} (${x.station})`).join(lang === 'zh' ? '、' : ', ')}`
    : '';
  d.stations.filter((x) => x.hours > 0).forEach((x) => {
    const tr = document.createElement('tr');
    tr.dataset.station = x.station;
    tr.appendChild(text(x.station)); tr.appendChild(text(x.name));
    tr.appendChild(text(`${x.hours} / ${x.of}`)); tr.appendChild(cell(x.capture_pct, 1));
    st.appendChild(tr);
  });
  await drawCityMap(d);
}

function button(label, onClick) {
  const b = document.createElement('button');
  b.className = 'small';
  b.textContent = label;
  b.addEventListener('click', onClick);
  return b;
}

async function changeAction(id, change, reason) {
  await api(`/api/actions/${id}`, { method: 'POST', body: JSON.stringify({ change, reason }) }).catch((e) => alert(e.message));
  await loadActions();
}

const staff = () => me && ['admin', 'analyst'].includes(me.role);

async function loadTasks() {
  $('task-new').hidden = !staff();
  const list = await api('/api/tasks');
  const table = $('tasks');
  header(table, [t('number'), t('task'), t('status'), t('overdue'), t('units'), t('count')]);
  list.forEach((x) => {
    const tr = document.createElement('tr');
    tr.dataset.task = x.number;
    tr.appendChild(text(x.number));
    const title = document.createElement('td'); title.className = 'left';
    const a = document.createElement('a'); a.href = `#/tasks/${x.number}`; a.textContent = x.title; title.appendChild(a);
    tr.appendChild(title);
    tr.appendChild(text(lang === 'zh' ? x.status_zh : x.status));
    tr.appendChild(text(x.overdue ? t('yes') : t('no')));
    const u = text(x.units.join('、')); u.className = 'left'; tr.appendChild(u);
    tr.appendChild(text(x.progress.length));
    table.appendChild(tr);
  });
}

let currentTask = null;
async function loadTask(n) {
  const x = await api(`/api/tasks/${n}`);
  currentTask = x;
  $('task-title').textContent = `${x.number} · ${x.title}`;
  $('task-edit-link').hidden = !staff();
  $('task-edit-link').href = `#/tasks/${x.number}/edit`;
  const f = $('task-fields');
  f.innerHTML = '';
  const row = (k, v) => { const tr = document.createElement('tr'); tr.appendChild(text(k)); const td = text(v); tr.appendChild(td); f.appendChild(tr); };
  row(t('source'), x.source); row(t('problem'), x.problem); row(t('units'), x.units.join('、'));
  row(t('city'), (x.cities || []).join('、')); row(t('goal'), x.goal); row(t('deadline'), x.deadline || '—');
  row(t('measures'), x.measures.map((m, i) => `${i + 1}. ${m}`).join('\n'));
  row(t('status'), lang === 'zh' ? x.status_zh : x.status);
  const p = $('task-progress');
  header(p, [t('date'), t('measure'), t('author'), t('text'), t('indicators'), t('evidence')]);
  x.progress.forEach((e) => {
    const tr = document.createElement('tr');
    tr.appendChild(text(e.date)); tr.appendChild(text(e.measure ?? t('wholeTask'))); tr.appendChild(text(e.author));
    const body = text(e.text); body.className = 'left'; tr.appendChild(body);
    tr.appendChild(text(e.indicators.map((i) => `${i.name}${i.value}${i.unit}`).join('；')));
    tr.appendChild(text(e.evidence.map((v) => v.name).join('；')));
    p.appendChild(tr);
  });
  const sel = $('measure-select');
  sel.innerHTML = `<option value="">${t('wholeTask')}</option>` + x.measures.map((m, i) => `<option value="${i + 1}">${i + 1}</option>`).join('');
  $('progress-form').hidden = !writes() || x.status === 'closed';
  // The workflow's next steps, as far as this role may take them.
  const NAMES = { not_started: '未启动', in_progress: '推进中', completed: '已完成', closed: '已销号' };
  const mine = (to) => ['admin', 'analyst'].includes(me.role) || (me.role === 'city' && ['in_progress', 'completed'].includes(to) && x.status !== 'completed');
  const moves = $('task-moves');
  moves.innerHTML = '';
  x.next.filter(mine).forEach((to) => moves.appendChild(button(`→ ${lang === 'zh' ? NAMES[to] : to}`, async () => {
    const note = prompt(t('note')) ?? '';
    await api(`/api/tasks/${x.number}/status`, { method: 'POST', body: JSON.stringify({ to, note: note || null }) }).catch((e) => alert(e.message));
    await loadTask(x.number);
  })));
}

$('progress-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const form = new FormData(e.target);
  const r = await fetch(`/api/tasks/${currentTask.number}/progress`, { method: 'POST', body: form, credentials: 'same-origin', headers: { 'X-CSRF-Token': me.csrf } });
  const body = await r.json().catch(() => ({}));
  $('progress-msg').textContent = r.ok ? `${t('saved')} (#${body.id})` : body.error;
  if (r.ok) { e.target.reset(); await loadTask(currentTask.number); $('progress-msg').textContent = `${t('saved')} (#${body.id})`; }
});

// Create or edit a task: the form holds the ledger's fields, lists one per line.
const lines = (v) => v.split('\n').map((x) => x.trim()).filter(Boolean);
async function editTask(n) {
  const form = $('task-form');
  form.reset();
  $('task-form-msg').textContent = '';
  form.dataset.task = n || '';
  form.elements.number.readOnly = !!n;
  $('taskedit-title').textContent = n ? t('editTaskTitle')(n) : t('newTaskTitle');
  if (!n) return;
  const x = await api(`/api/tasks/${n}`);
  const el = form.elements;
  el.number.value = x.number; el.title.value = x.title; el.source.value = x.source; el.problem.value = x.problem;
  el.units.value = x.units.join('\n'); el.cities.value = x.cities.join('\n'); el.goal.value = x.goal;
  el.deadline.value = x.deadline || ''; el.measures.value = x.measures.join('\n');
  const g = (x.goal_targets || [])[0];
  el.goal_year.value = g ? g.year : ''; el.goal_areas.value = g ? g.areas.join('\n') : '';
}

$('task-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const el = e.target.elements;
  const n = e.target.dataset.task;
  const cities = lines(el.cities.value);
  const year = el.goal_year.value ? Number(el.goal_year.value) : null;
  const body = {
    number: Number(el.number.value), title: el.title.value.trim(), source: el.source.value.trim(), problem: el.problem.value.trim(),
    units: lines(el.units.value), cities, goal: el.goal.value.trim(), measures: lines(el.measures.value),
    goal_targets: year ? [{ year, areas: lines(el.goal_areas.value).length ? lines(el.goal_areas.value) : cities }] : [],
  };
  if (el.deadline.value) body.deadline = el.deadline.value;
  try {
    const r = await api(n ? `/api/tasks/${n}` : '/api/tasks', { method: 'POST', body: JSON.stringify(body) });
    location.hash = `#/tasks/${r.id}`;
  } catch (err) {
    $('task-form-msg').textContent = err.message;
  }
});

function reportLinks() {
  const month = $('report-month').value;
  $('notice-docx').href = `/api/reports?kind=notice&period=month:${month}&format=docx`;
  $('notice-xlsx').href = `/api/reports?kind=notice&period=month:${month}&format=xlsx`;
  $('completion-docx').href = `/api/reports?kind=completion&task=${$('report-task').value}&format=docx`;
  const week = $('report-week').value;
  $('week-docx').href = `/api/reports?kind=notice&period=week:${week}&format=docx`;
  $('week-xlsx').href = `/api/reports?kind=notice&period=week:${week}&format=xlsx`;
  const day = $('report-day').value;
  $('daily-xlsx').href = `/api/reports?kind=daily&date=${day}&format=xlsx&lang=${lang}`;
  $('daily-docx').href = `/api/reports?kind=daily&date=${day}&format=docx&lang=${lang}`;
}
$('report-day').addEventListener('change', reportLinks);

// One's own sessions: where one is logged in, and ending the ones not recognised.
async function loadSessions() {
  const list = await api('/api/sessions');
  const table = $('sessions');
  header(table, [t('created'), t('lastSeen'), t('expires'), t('agent'), t('address'), '']);
  const when = (x) => (x ? new Date(x).toLocaleString(lang === 'zh' ? 'zh-CN' : 'en-GB') : '—');
  list.forEach((x) => {
    const tr = document.createElement('tr');
    tr.dataset.session = x.id;
    if (x.current) tr.classList.add('current');
    [when(x.created), when(x.last_seen), when(x.expires)].forEach((v) => tr.appendChild(text(v)));
    const agent = text(x.agent || '—'); agent.className = 'left'; tr.appendChild(agent);
    tr.appendChild(text(x.address || '—'));
    const ops = document.createElement('td');
    if (x.current) ops.textContent = t('current');
    else ops.appendChild(button(t('end'), async () => {
      await api(`/api/sessions/${x.id}/end`, { method: 'POST' }).catch((e) => alert(e.message));
      await loadSessions();
    }));
    tr.appendChild(ops);
    table.appendChild(tr);
  });
}
$('report-week').addEventListener('change', reportLinks);
$('report-month').addEventListener('change', reportLinks);
$('report-task').addEventListener('change', reportLinks);
window.addEventListener('hashchange', () => route().catch((e) => alert(e.message)));

$('import-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const form = new FormData(e.target);
  $('import-state').textContent = t('running');
  const r = await fetch('/api/import', { method: 'POST', body: form, credentials: 'same-origin', headers: { 'X-CSRF-Token': me.csrf } });
  const body = await r.json().catch(() => ({}));
  if (!r.ok) { $('import-state').textContent = body.error; return; }
  for (;;) {
    const s = await api(`/api/import/${body.job}`);
    $('import-progress').max = Math.max(1, s.total);
    $('import-progress').value = s.done;
    if (s.state === 'running') { await new Promise((ok) => setTimeout(ok, 300)); continue; }
    $('import-state').textContent = s.state === 'done' ? t('done') : `${t('failed')}: ${s.error}`;
    if (s.summary) showImport(s.summary);
    last = null;
    break;
  }
});

function showImport(sm) {
  const f = $('import-summary');
  f.innerHTML = '';
  [[t('filesCol'), sm.files], [t('importedCol'), sm.imported], [t('revisedCol'), sm.revised], [t('unchangedCol'), sm.unchanged], [t('rejectedCol'), sm.rejected]]
    .forEach(([k, v]) => { const tr = document.createElement('tr'); tr.appendChild(text(k)); tr.appendChild(text(v)); tr.dataset.key = k; f.appendChild(tr); });
  const rj = $('import-rejects');
  const cols = sm.rejects.length ? Object.keys(sm.rejects[0]) : [];
  header(rj, cols);
  sm.rejects.forEach((x) => { const tr = document.createElement('tr'); tr.className = 'reject'; cols.forEach((c) => tr.appendChild(text(x[c]))); rj.appendChild(tr); });
}

async function start() {
  $('import-tab').hidden = !['admin', 'analyst'].includes(me.role);
  // City officers do not see the screening of stations (the API refuses them too).
  $('screen-tab').hidden = me.role === 'city';
  $('login-view').hidden = true;
  $('tabs').hidden = false;
  $('nav').hidden = false;
  $('who').textContent = `${me.name}（${me.role}${me.city ? ' · ' + me.city : ''}）`;
  if (!$('from').value) {
    $('to').value = me.data_to || new Date().toISOString().slice(0, 10);
    $('from').value = $('to').value.slice(0, 8) + '01';
  }
  await route();
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
$('apply').addEventListener('click', () => { location.hash = '#/overview'; load().catch((e) => alert(e.message)); });
// Switching the basis reloads what is shown.
['values', 'dust'].forEach((id) => $(id).addEventListener('change', () => { last = null; route().catch((e) => alert(e.message)); }));
$('lang').addEventListener('click', () => { lang = lang === 'zh' ? 'en' : 'zh'; localStorage.setItem('lantian-lang', lang); applyLang(); route(); });
$('logout').addEventListener('click', async () => { await api('/api/logout', { method: 'POST' }).catch(() => {}); location.reload(); });
window.addEventListener('resize', () => { if (chart) chart.resize(); Object.values(charts).forEach((c) => c.resize()); });
$('map-stat').addEventListener('change', () => { if (last) drawMap(last).catch((e) => console.error(e)); });

applyLang();
api('/api/me').then((m) => { me = m; return start(); }).catch(() => {});

// Data integrity screening (province staff): findings, a finding's chart
// against its neighbours, decisions.
const CHECKS = {
  divergence: ['与周边站点背离', 'divergence from neighbours'], short_drop: ['短时骤降', 'short deep drops'],
  selective_gaps: ['选择性缺测', 'selective gaps'], bunching: ['分级限值下方聚集', 'bunching under a boundary'],
  stuck: ['数值恒定', 'stuck values'], pm25_above_pm10: ['PM2.5高于PM10', 'PM2.5 above PM10'],
  drift: ['缓慢漂移', 'slow drift'], control: ['对照点异常', 'control station anomaly'],
};
const checkName = (k) => (CHECKS[k] ? CHECKS[k][lang === 'zh' ? 0 : 1] : k);
const statusName = (s) => t(s === 'confirmed' ? 'statusConfirmed' : s === 'dismissed' ? 'statusDismissed' : 'statusOpen');

function fillChecks() {
  const sel = $('screen-check');
  const keep = sel.value;
  sel.textContent = '';
  [['', t('allChecks')], ...Object.keys(CHECKS).map((k) => [k, checkName(k)])].forEach(([v, label]) => {
    const o = document.createElement('option'); o.value = v; o.textContent = label; sel.appendChild(o);
  });
  sel.value = keep;
}

let screenSeq = 0;
async function loadScreen() {
  fillChecks();
  // Answers can come back out of order (a slow year after a quick month): show only the latest.
  const seq = ++screenSeq;
  const q = new URLSearchParams({ from: $('from').value, to: $('to').value, lang });
  if ($('screen-city').value.trim()) q.set('city', $('screen-city').value.trim());
  if ($('screen-check').value) q.set('check', $('screen-check').value);
  if ($('screen-all').checked) q.set('all', 'true');
  const d = await api(`/api/findings?${q}`);
  if (seq !== screenSeq) return;
  $('screen-summary').textContent = t('screenSummary')(d);
  const table = $('findings');
  header(table, [t('score'), t('city'), t('station'), t('checkCol'), t('series'), t('periodCol'), t('status'), t('evidenceCol')]);
  d.findings.forEach((f) => {
    const tr = document.createElement('tr');
    tr.dataset.finding = f.id;
    tr.dataset.city = f.city;
    tr.className = 'clickable' + (f.status ? ' ' + f.status : '');
    [f.score, f.city, `${f.station_name} ${f.station}`, checkName(f.check), f.series, t('period')(f.from, f.to), statusName(f.status)].forEach((x) => tr.appendChild(text(x)));
    const ev = text(f.evidence); ev.className = 'left'; tr.appendChild(ev);
    tr.addEventListener('click', () => showFinding(f.id).catch((e) => alert(e.message)));
    table.appendChild(tr);
  });
  if (d.findings.length && $('finding-detail').hidden) await showFinding(d.findings[0].id);
}

async function showFinding(id) {
  const d = await api(`/api/findings/${encodeURIComponent(id)}/series?lang=${lang}`);
  const f = d.finding;
  $('finding-detail').hidden = false;
  $('finding-detail').dataset.finding = f.id;
  $('finding-title').textContent = `${f.city} · ${f.station_name} ${f.station} · ${checkName(f.check)} · ${t('period')(f.from, f.to)} · ${t('score')} ${f.score}`;
  $('finding-evidence').textContent = f.evidence + (f.status ? ` 〔${statusName(f.status)}：${f.note}（${f.reviewed_by}）〕` : '');
  const labels = d.times.map((x) => x.slice(5, 13).replace('T', ' ') + '时');
  const first = d.times.findIndex((x) => x.startsWith(f.from));
  let lastIdx = -1;
  d.times.forEach((x, i) => { if (x.startsWith(f.to)) lastIdx = i; });
  const series = [{
    name: t('thisStation'), type: 'line', data: d.station, showSymbol: false, lineStyle: { width: 1.5 }, itemStyle: { color: '#c23531' },
    markArea: first >= 0 && lastIdx >= 0 ? { itemStyle: { color: 'rgba(255, 173, 177, 0.25)' }, data: [[{ xAxis: labels[first] }, { xAxis: labels[lastIdx] }]] } : undefined,
  }];
  if (d.reference) series.push({ name: t('neighbours'), type: 'line', data: d.reference, showSymbol: false, lineStyle: { width: 1.5, type: 'dashed' }, itemStyle: { color: '#2f4554' } });
  chartOf('finding-chart').setOption({
    animation: false, tooltip: { trigger: 'axis' }, legend: { top: 0 }, grid: { left: 50, right: 20, top: 30, bottom: 40 },
    xAxis: { type: 'category', data: labels }, yAxis: { type: 'value', name: `${f.series}` }, series,
  }, true);
  const ops = $('finding-review');
  ops.textContent = '';
  if (['admin', 'analyst'].includes(me.role)) {
    ops.appendChild(button(t('confirm'), () => reviewFinding(f.id, 'confirmed')));
    ops.appendChild(button(t('dismiss'), () => reviewFinding(f.id, 'dismissed')));
  }
}

async function reviewFinding(id, decision) {
  const note = prompt(t('reviewNote'));
  if (!note || !note.trim()) return;
  const invalidate = decision === 'confirmed' && confirm(t('invalidateAsk'));
  await api(`/api/findings/${encodeURIComponent(id)}/review`, { method: 'POST', body: JSON.stringify({ decision, note, invalidate }) })
    .catch((e) => alert(e.message));
  $('finding-detail').hidden = true;
  await loadScreen();
}

$('screen-filters').addEventListener('submit', (e) => { e.preventDefault(); $('finding-detail').hidden = true; loadScreen().catch((x) => alert(x.message)); });
