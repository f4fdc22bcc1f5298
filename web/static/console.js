// Helloword — agent console: the escalation queue sorted by SLA deadline, the case brief,
// the conversation, replies, approvals and take-over / hand-back.

import {
  api, ApiError, mountTopBar, h, clear, $, showError, errorMessage,
  formatTimeLeft, formatDateTime, isoOf, languageName, humanize,
} from './common.js';

const REFRESH_MS = 5000;
const URGENCY_WORDS = { red: 'red', orange: 'orange', yellow: 'yellow', blue: 'blue' };
const ROLE_LABELS = { customer: 'Customer', agent: 'Agent', human: 'Support team', system: 'System' };

const state = {
  filter: 'open',
  cases: [],
  selectedId: null,
  detail: null,
  detailKey: '',
  loadingQueue: false,
  caseRequest: 0,
  missingId: null, // a selected case the server does not know: not polled again
};

/* ---------- Shared bits ---------- */

function urgencyChip(urgency) {
  const word = URGENCY_WORDS[urgency] || String(urgency || 'unknown');
  return h('span', { className: 'chip urgency-' + word, text: word });
}

function timeLeftNode(seconds) {
  const { text, overdue } = formatTimeLeft(seconds);
  return h('span', { className: 'time-left' + (overdue ? ' overdue' : ''), text, title: overdue ? 'Past the SLA deadline' : 'Time left before the SLA deadline' });
}

function timeNode(value) {
  if (!value) return null;
  return h('time', { text: formatDateTime(value), attrs: { datetime: isoOf(value) || null } });
}

/* ---------- Queue ---------- */

function caseRow(item) {
  const selected = String(item.id) === String(state.selectedId);
  const flags = h('span', { className: 'case-flags' },
    item.pending_approval ? h('span', { className: 'badge badge-warning', text: 'Needs approval' }) : null,
    item.mode === 'human'
      ? h('span', { className: 'badge badge-accent', text: item.handled_by ? 'Handled by ' + item.handled_by : 'Human handling' })
      : null,
    item.status && item.status !== 'open' ? h('span', { className: 'badge', text: humanize(item.status) }) : null,
  );
  const who = h('span', { className: 'case-who' },
    h('span', { text: item.customer_name || 'Unknown customer' }),
    item.language ? h('span', { text: String(item.language).toUpperCase(), title: languageName(item.language) }) : null,
    item.order_id ? h('span', { text: 'Order ' + item.order_id }) : null,
  );
  const button = h('button', { type: 'button', className: 'case-open' },
    urgencyChip(item.urgency),
    h('span', { className: 'case-status', text: '#' + item.id }),
    timeLeftNode(item.seconds_left),
    h('span', { className: 'case-reason', text: item.reason || 'No reason given' }),
    who,
    flags,
  );
  return h('li', {
    className: 'case-row',
    dataset: { caseId: String(item.id) },
    attrs: { 'aria-current': selected ? 'true' : null },
  }, button);
}

function renderQueue() {
  const list = $('#queue');
  const focusedId = document.activeElement && document.activeElement.closest
    ? (document.activeElement.closest('.case-row') || {}).dataset?.caseId
    : null;
  clear(list);
  if (!state.cases.length) {
    list.append(h('li', { className: 'empty' },
      h('strong', { text: state.filter === 'open' ? 'No open cases' : 'No cases yet' }),
      'New escalations appear here on their own.'));
  } else {
    for (const item of state.cases) list.append(caseRow(item));
  }
  if (focusedId) {
    const again = list.querySelector('.case-row[data-case-id="' + CSS.escape(focusedId) + '"] button');
    if (again) again.focus();
  }
  $('#queue-count').textContent = String(state.cases.length);
  const overdue = state.cases.filter((c) => Number(c.seconds_left) < 0).length;
  const approvals = state.cases.filter((c) => c.pending_approval).length;
  const parts = [state.cases.length + (state.cases.length === 1 ? ' case' : ' cases')];
  if (overdue) parts.push(overdue + ' overdue');
  if (approvals) parts.push(approvals + ' waiting for approval');
  parts.push('updated ' + new Date().toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' }));
  $('#queue-meta').textContent = parts.join(' · ');
}

async function refreshQueue() {
  if (state.loadingQueue) return;
  state.loadingQueue = true;
  try {
    const cases = await api('/api/console/cases?status=' + encodeURIComponent(state.filter));
    state.cases = Array.isArray(cases) ? cases : [];
    showError($('#queue-error'), '');
    renderQueue();
  } catch (error) {
    showError($('#queue-error'), 'Could not load the queue: ' + errorMessage(error));
  } finally {
    state.loadingQueue = false;
  }
}

function bindQueue() {
  $('#queue').addEventListener('click', (event) => {
    const row = event.target.closest('.case-row[data-case-id]');
    if (row) selectCase(row.dataset.caseId);
  });
  for (const button of document.querySelectorAll('[data-filter]')) {
    button.addEventListener('click', () => {
      state.filter = button.dataset.filter;
      for (const other of document.querySelectorAll('[data-filter]')) {
        other.setAttribute('aria-pressed', String(other === button));
      }
      refreshQueue();
    });
  }
}

/* ---------- Case ---------- */

function selectCase(id) {
  state.selectedId = String(id);
  state.missingId = null;
  state.detailKey = '';
  history.replaceState(null, '', '#case-' + encodeURIComponent(state.selectedId));
  for (const row of document.querySelectorAll('.case-row')) {
    if (row.dataset.caseId === state.selectedId) row.setAttribute('aria-current', 'true');
    else row.removeAttribute('aria-current');
  }
  showError($('#reply-error'), '');
  showError($('#reply-ok'), '');
  showError($('#action-error'), '');
  showError($('#decision-error'), '');
  $('#decision-note').value = '';
  loadCase({ scroll: true });
}

async function loadCase({ scroll = false } = {}) {
  const id = state.selectedId;
  if (!id) return;
  const request = ++state.caseRequest;
  const stale = () => id !== state.selectedId || request !== state.caseRequest;
  try {
    const detail = await api('/api/console/cases/' + encodeURIComponent(id));
    if (stale()) return;
    showError($('#case-error'), '');
    const key = JSON.stringify(detail);
    if (key !== state.detailKey) {
      state.detailKey = key;
      state.detail = detail;
      renderCase(detail);
    }
    if (scroll && window.matchMedia('(max-width: 860px)').matches) {
      $('#case').scrollIntoView({ block: 'start' });
    }
  } catch (error) {
    if (stale()) return;
    if (error instanceof ApiError && error.status === 404) state.missingId = id;
    $('#case-placeholder').hidden = true;
    $('#case-view').hidden = false;
    showError($('#case-error'), 'Could not load case ' + id + ': ' + errorMessage(error));
    if (!state.detail || String(state.detail.id) !== id) clearCaseView(id);
  }
}

function clearCaseView(id) {
  state.detail = null;
  state.detailKey = '';
  $('#case-title').textContent = 'Case #' + id;
  clear($('#case-tags'));
  clear($('#brief'));
  clear($('#thread'));
  $('#pending').hidden = true;
  $('#takeover').hidden = true;
  $('#handback').hidden = true;
}

function renderCase(detail) {
  $('#case-placeholder').hidden = true;
  $('#case-view').hidden = false;
  renderHeader(detail);
  renderPending(detail);
  renderBrief(detail.brief || null, detail);
  renderThread(detail.messages || [], detail.language);
}

function renderHeader(detail) {
  const title = $('#case-title');
  title.textContent = (detail.customer_name || 'Case') + ' · #' + detail.id;
  const tags = clear($('#case-tags'));
  tags.append(
    urgencyChip(detail.urgency),
    timeLeftNode(detail.seconds_left),
    h('span', { className: 'badge', text: humanize(detail.status || 'open') }),
    h('span', {
      className: 'badge ' + (detail.mode === 'human' ? 'badge-accent' : ''),
      text: detail.mode === 'human' ? 'Handled by ' + (detail.handled_by || 'a person') : 'Agent is handling it',
    }),
    detail.language ? h('span', { className: 'badge', text: languageName(detail.language) }) : null,
    detail.order_id ? h('span', { className: 'badge', text: 'Order ' + detail.order_id }) : null,
  );
  $('#takeover').hidden = detail.mode === 'human';
  $('#handback').hidden = detail.mode !== 'human';
}

function renderPending(detail) {
  const box = $('#pending');
  const pending = detail.pending || null;
  const show = Boolean(detail.pending_approval);
  box.hidden = !show;
  $('#approve').hidden = !show;
  $('#deny').hidden = !show;
  if (!show) return;
  $('#pending-text').textContent = pending && pending.tool
    ? 'The agent wants to run “' + pending.tool + '” and needs a human decision.'
    : 'The agent proposed an action that needs a human decision.';
  const args = $('#pending-args');
  const hasArgs = pending && pending.arguments && Object.keys(pending.arguments).length;
  args.hidden = !hasArgs;
  args.textContent = hasArgs ? JSON.stringify(pending.arguments, null, 2) : '';
}

/* ----- Brief ----- */

function section(title, ...content) {
  return h('section', {}, h('h3', { text: title }), ...content);
}

function valueNode(value, key = '') {
  if (value === null || value === undefined || value === '') return h('span', { className: 'muted', text: '—' });
  if (typeof value === 'string' && /(_at|_date)$/.test(key)) return timeNode(value);
  if (Array.isArray(value)) {
    if (!value.length) return h('span', { className: 'muted', text: 'none' });
    return h('ul', {}, value.map((item) => h('li', {}, inlineValue(item))));
  }
  if (typeof value === 'object') return inlineValue(value);
  if (typeof value === 'boolean') return document.createTextNode(value ? 'yes' : 'no');
  return document.createTextNode(String(value));
}

function inlineValue(value) {
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    const parts = Object.entries(value)
      .filter(([, v]) => v !== null && v !== undefined && v !== '')
      .map(([k, v]) => humanize(k) + ': ' + (typeof v === 'object' ? JSON.stringify(v) : String(v)));
    return document.createTextNode(parts.join(' · '));
  }
  return document.createTextNode(String(value));
}

function keyValues(object, skip = []) {
  const dl = h('dl', { className: 'kv' });
  for (const [key, value] of Object.entries(object || {})) {
    if (skip.includes(key)) continue;
    dl.append(h('dt', { text: humanize(key) }), h('dd', {}, valueNode(value, key)));
  }
  return dl;
}

function bulletList(items, className = '') {
  return h('ul', { className }, items.map((item) => h('li', { text: String(item) })));
}

function renderBrief(brief, detail) {
  const root = clear($('#brief'));
  if (!brief) {
    root.append(h('p', { className: 'muted', text: 'No brief for this case yet.' }));
    return;
  }

  if (brief.recommended_resolution) {
    root.append(h('section', { className: 'callout' },
      h('h3', { text: 'Recommended resolution' }),
      h('p', { text: brief.recommended_resolution })));
  }

  if (brief.issue) root.append(section('Issue', h('p', { text: brief.issue })));

  if (detail.flag) {
    const error = h('p', { className: 'error-line', role: 'alert' });
    const verdict = (label, value) => {
      const button = h('button', { type: 'button', className: 'btn btn-secondary btn-sm flag-' + value, text: label });
      button.addEventListener('click', () => runAction(button, 'flag-feedback', { verdict: value }, error));
      return button;
    };
    const status = detail.flag.status === 'open' ? 'not judged yet' : humanize(detail.flag.status);
    root.append(section('Exception monitor',
      h('p', { text: humanize(detail.flag.rule) + ' · ' + status }),
      h('p', {}, verdict('Real problem', 'confirmed'), ' ', verdict('False alarm', 'false_alarm')),
      error));
  }

  const reasons = Array.isArray(brief.urgency_reasons) ? brief.urgency_reasons : [];
  root.append(section('Urgency',
    h('p', {}, urgencyChip(brief.urgency || detail.urgency), ' ',
      brief.sla_due_at || detail.sla_due_at
        ? h('span', { className: 'muted small' }, 'Reply due ', timeNode(brief.sla_due_at || detail.sla_due_at))
        : null),
    reasons.length ? bulletList(reasons) : null));

  const words = Array.isArray(brief.customer_words) ? brief.customer_words.filter(Boolean) : [];
  if (words.length || brief.translation) {
    const lang = detail.language || null;
    root.append(section('In the customer’s words',
      words.map((text) => h('blockquote', { className: 'quote', text, attrs: { lang } })),
      brief.translation
        ? h('div', { className: 'translation' },
          h('span', { className: 'label', text: 'English translation' }),
          h('span', { text: brief.translation }))
        : null));
  }

  if (brief.customer && Object.keys(brief.customer).length) {
    root.append(section('Customer', keyValues(brief.customer)));
  }

  if (brief.order && Object.keys(brief.order).length) {
    root.append(section('Order', keyValues(brief.order, ['timeline'])));
  } else {
    root.append(section('Order', h('p', { className: 'muted', text: 'No order linked to this case.' })));
  }

  const timeline = Array.isArray(brief.timeline) ? brief.timeline : [];
  if (timeline.length) {
    root.append(section('Timeline', h('ol', { className: 'timeline' },
      timeline.map((entry) => h('li', {}, timeNode(entry.at), h('span', { text: entry.event || entry.what || '' }))))));
  }

  const clauses = Array.isArray(brief.policy_clauses) ? brief.policy_clauses : [];
  root.append(section('Policy clauses cited',
    clauses.length ? bulletList(clauses) : h('p', { className: 'muted', text: 'None cited.' })));

  const tried = Array.isArray(brief.actions_tried) ? brief.actions_tried : [];
  root.append(section('Actions tried',
    tried.length
      ? h('ul', { className: 'actions-tried' }, tried.map((action) => h('li', {},
        h('span', { className: action.ok ? 'ok-mark' : 'fail-mark', text: action.ok ? '✓ ' : '✗ ', attrs: { 'aria-hidden': 'true' } }),
        h('span', { className: 'sr-only', text: action.ok ? 'Succeeded: ' : 'Failed: ' }),
        h('code', { text: action.tool || 'action' }),
        action.error ? h('span', { className: 'muted', text: ' — ' + action.error }) : null)))
      : h('p', { className: 'muted', text: 'Nothing tried yet.' })));
}

/* ----- Conversation ----- */

function renderThread(messages, language) {
  const list = $('#thread');
  const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
  clear(list);
  $('#thread-lang').textContent = language ? languageName(language) : '';
  if (!messages.length) {
    list.append(h('li', { className: 'muted small', text: 'No messages yet.' }));
  }
  for (const message of messages) {
    const role = ROLE_LABELS[message.role] ? message.role : 'system';
    list.append(h('li', { className: 'thread-msg role-' + role, attrs: { lang: role === 'customer' && language ? language : null } },
      h('span', { className: 'who' }, h('span', { text: ROLE_LABELS[role] }), timeNode(message.at)),
      h('span', { text: message.text || '' })));
  }
  if (atBottom || list.dataset.caseId !== String(state.selectedId)) list.scrollTop = list.scrollHeight;
  list.dataset.caseId = String(state.selectedId);
}

/* ---------- Actions ---------- */

async function afterAction() {
  state.detailKey = '';
  await Promise.all([loadCase(), refreshQueue()]);
}

async function runAction(button, path, body, errorNode) {
  const id = state.selectedId;
  if (!id) return;
  showError(errorNode, '');
  button.disabled = true;
  try {
    await api('/api/console/cases/' + encodeURIComponent(id) + '/' + path, { method: 'POST', body });
    await afterAction();
    return true;
  } catch (error) {
    showError(errorNode, errorMessage(error));
    return false;
  } finally {
    button.disabled = false;
  }
}

function bindActions() {
  $('#takeover').addEventListener('click', (e) => runAction(e.currentTarget, 'takeover', {}, $('#action-error')));
  $('#handback').addEventListener('click', (e) => runAction(e.currentTarget, 'handback', {}, $('#action-error')));

  const decide = async (button, path) => {
    const note = $('#decision-note').value.trim();
    const ok = await runAction(button, path, note ? { note } : {}, $('#decision-error'));
    if (ok) $('#decision-note').value = '';
  };
  $('#approve').addEventListener('click', (e) => decide(e.currentTarget, 'approve'));
  $('#deny').addEventListener('click', (e) => decide(e.currentTarget, 'deny'));

  const form = $('#reply-form');
  const text = $('#reply-text');
  const resolve = $('#reply-resolve');
  const send = $('#reply-send');

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    showError($('#reply-ok'), '');
    if (!text.value.trim()) {
      showError($('#reply-error'), 'Write a reply first.');
      text.focus();
      return;
    }
    const resolving = resolve.checked;
    const ok = await runAction(send, 'reply', { text: text.value.trim(), resolve: resolving }, $('#reply-error'));
    if (ok) {
      text.value = '';
      resolve.checked = false;
      showError($('#reply-ok'), resolving ? 'Reply sent and case resolved.' : 'Reply sent.');
    }
  });
  text.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
  text.addEventListener('input', () => {
    showError($('#reply-error'), '');
    showError($('#reply-ok'), '');
  });
}

/* ---------- Start ---------- */

function caseFromHash() {
  const match = /^#case-(.+)$/.exec(location.hash);
  return match ? decodeURIComponent(match[1]) : null;
}

async function main() {
  let me;
  try {
    me = await mountTopBar({ require: 'agent' });
  } catch (error) {
    showError($('#queue-error'), errorMessage(error));
    return;
  }
  if (!me) return;
  bindQueue();
  bindActions();
  await refreshQueue();
  const fromHash = caseFromHash();
  if (fromHash) selectCase(fromHash);

  setInterval(() => {
    if (document.hidden) return;
    refreshQueue();
    if (state.selectedId && state.selectedId !== state.missingId) loadCase();
  }, REFRESH_MS);
  window.addEventListener('hashchange', () => {
    const id = caseFromHash();
    if (id && id !== state.selectedId) selectCase(id);
  });
  document.addEventListener('visibilitychange', () => {
    if (!document.hidden) refreshQueue();
  });
}

main().catch((error) => {
  if (!(error instanceof ApiError && error.status === 401)) showError($('#queue-error'), errorMessage(error));
});
