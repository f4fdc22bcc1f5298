// Helloword — analytics dashboard: a period (dates or 7/30/90-day presets), the key figures,
// SLA compliance by urgency, the charts drawn by the server, volume tables, flags and the CSV download.

import { api, mountTopBar, h, clear, $, showError, errorMessage, languageName, humanize } from './common.js';

const URGENCIES = ['red', 'orange', 'yellow', 'blue'];
const DAY_MS = 86400000;
let request = 0;

/* ---------- Formatting ---------- */

function duration(seconds) {
  if (seconds === null || seconds === undefined) return '—';
  const s = Number(seconds);
  if (s < 60) return Math.round(s) + ' s';
  if (s < 3600) return (s / 60).toFixed(1).replace(/\.0$/, '') + ' min';
  if (s < 48 * 3600) return (s / 3600).toFixed(1).replace(/\.0$/, '') + ' h';
  return (s / 86400).toFixed(1).replace(/\.0$/, '') + ' d';
}

function percent(value) {
  if (value === null || value === undefined) return '—';
  return (Number(value) * 100).toFixed(1).replace(/\.0$/, '') + ' %';
}

function isoDay(date) {
  return date.toISOString().slice(0, 10);
}

/* ---------- The period ---------- */

function setPreset(days) {
  const today = new Date();
  $('#range-to').value = isoDay(today);
  $('#range-from').value = isoDay(new Date(today.getTime() - (days - 1) * DAY_MS));
  markPreset(days);
}

function markPreset(days) {
  for (const button of document.querySelectorAll('[data-days]')) {
    button.setAttribute('aria-pressed', String(Number(button.dataset.days) === days));
  }
}

function readRange() {
  const from = $('#range-from').value;
  const to = $('#range-to').value;
  if (!from || !to) return { error: 'Choose both a first and a last day.' };
  if (from > to) return { error: 'The first day must not come after the last day.' };
  return { from, to };
}

function query(range) {
  return new URLSearchParams({ from: range.from, to: range.to }).toString();
}

function syncUrl(range) {
  const url = new URL(location.href);
  url.searchParams.set('from', range.from);
  url.searchParams.set('to', range.to);
  history.replaceState(null, '', url);
}

/* ---------- Rendering ---------- */

function setKpi(id, value, note) {
  const card = $('#' + id);
  if (!card) return;
  $('[data-value]', card).textContent = value;
  $('[data-note]', card).textContent = note || '';
}

function fillTable(table, rows, columns) {
  const body = clear($('tbody', table));
  if (!rows.length) {
    body.append(h('tr', { className: 'empty-row' }, h('td', { attrs: { colspan: columns }, text: 'No data in this period' })));
    return;
  }
  for (const cells of rows) body.append(h('tr', {}, cells.map((cell) => h('td', {}, cell))));
}

function volumeRows(counts, label) {
  return Object.entries(counts || {}).map(([name, count]) => [label(name), String(count)]);
}

function slaCell(level) {
  const share = level.compliance === null ? 0 : Math.max(0, Math.min(1, Number(level.compliance)));
  const fill = h('span', { className: 'urgency-' + level.urgency });
  fill.style.width = Math.round(share * 100) + '%';
  return h('span', {}, h('span', { className: 'sla-bar', attrs: { 'aria-hidden': 'true' } }, fill), percent(level.compliance));
}

function render(report, range) {
  const fr = report.first_response;
  setKpi('kpi-first-response', duration(fr.median_seconds), 'p90 ' + duration(fr.p90_seconds) + ' · ' + fr.count + ' answered');
  const res = report.resolution;
  setKpi('kpi-resolution', duration(res.median_seconds), 'p90 ' + duration(res.p90_seconds) + ' · ' + res.count + ' cases resolved');
  setKpi('kpi-automated', percent(report.automated_rate), report.automated + ' of ' + report.conversations + ' conversations');
  setKpi('kpi-escalation', percent(report.escalation_rate), report.escalated + ' handed to a human');
  const csat = report.csat;
  setKpi(
    'kpi-csat',
    csat.mean === null ? '—' : Number(csat.mean).toFixed(2) + ' / 5',
    csat.count ? percent(csat.share_satisfied) + ' rated 4–5 · ' + csat.count + ' ratings' : 'No ratings yet',
  );

  const levels = [...report.sla].sort((a, b) => URGENCIES.indexOf(a.urgency) - URGENCIES.indexOf(b.urgency));
  fillTable($('#sla-table'), levels.map((level) => [
    h('span', { className: 'chip urgency-' + level.urgency, text: level.urgency }),
    String(level.cases), String(level.met), String(level.breached), String(level.open), slaCell(level),
  ]), 6);
  $('#sla-breaches').textContent = report.sla_breaches + (report.sla_breaches === 1 ? ' breach' : ' breaches');

  fillTable($('#table-by_language'), volumeRows(report.by_language, (code) => (code === 'unknown' ? 'Unknown' : languageName(code) + ' (' + code + ')')), 2);
  fillTable($('#table-by_intent'), volumeRows(report.by_intent, humanize), 2);
  fillTable($('#table-by_marketplace'), volumeRows(report.by_marketplace, humanize), 2);
  fillTable($('#table-by_carrier'), volumeRows(report.by_carrier, (name) => (name === 'none' ? 'None' : name.toUpperCase())), 2);

  const flagRows = [];
  for (const [rule, statuses] of Object.entries(report.flags || {})) {
    for (const [status, count] of Object.entries(statuses)) flagRows.push([humanize(rule), humanize(status), String(count)]);
  }
  const flagsTable = $('#flags-table');
  flagsTable.hidden = flagRows.length === 0;
  $('#flags-empty').hidden = flagRows.length > 0;
  if (flagRows.length) fillTable(flagsTable, flagRows, 3);

  const q = query(range);
  for (const img of document.querySelectorAll('img[data-chart]')) {
    img.src = '/api/analytics/chart/' + encodeURIComponent(img.dataset.chart) + '.svg?' + q;
  }
  $('#csv-link').href = '/api/analytics/report.csv?' + q;
  $('#range-label').textContent =
    report.conversations + ' conversations from ' + range.from + ' to ' + range.to + ' (UTC, both days included)';
}

async function load() {
  const range = readRange();
  const errorLine = $('#range-error');
  if (range.error) {
    showError(errorLine, range.error);
    return;
  }
  showError(errorLine, '');
  syncUrl(range);
  const mine = ++request;
  $('#analytics').setAttribute('aria-busy', 'true');
  try {
    const report = await api('/api/analytics/report?' + query(range));
    if (mine === request) render(report, range);
  } catch (error) {
    if (mine === request) showError(errorLine, errorMessage(error));
  } finally {
    if (mine === request) $('#analytics').removeAttribute('aria-busy');
  }
}

/* ---------- Start ---------- */

async function init() {
  const me = await mountTopBar({ require: 'agent' });
  if (!me) return;
  const params = new URLSearchParams(location.search);
  const day = /^\d{4}-\d{2}-\d{2}$/;
  if (day.test(params.get('from') || '') && day.test(params.get('to') || '')) {
    $('#range-from').value = params.get('from');
    $('#range-to').value = params.get('to');
    markPreset(null);
  } else {
    setPreset(30);
  }
  for (const button of document.querySelectorAll('[data-days]')) {
    button.addEventListener('click', () => {
      setPreset(Number(button.dataset.days));
      load();
    });
  }
  for (const input of [$('#range-from'), $('#range-to')]) input.addEventListener('change', () => markPreset(null));
  $('#range-form').addEventListener('submit', (event) => {
    event.preventDefault();
    load();
  });
  await load();
}

init().catch((error) => showError($('#range-error'), errorMessage(error)));
