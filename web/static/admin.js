// Helloword — admin: knowledge documents (editor, live preview, versions, diff, restore),
// re-indexing with progress, and the policy profile with in-place validation errors.

import {
  api, ApiError, mountTopBar, h, clear, $, showError, errorMessage,
  formatDateTime, languageName, debounce,
} from './common.js';

const PREVIEW_DELAY_MS = 300;
const REINDEX_POLL_MS = 500;

const docs = {
  list: [],
  current: null, // {path, version, versions, savedText}
  pendingSwitch: null,
  previewRequest: 0,
};

function docUrl(path, suffix = '') {
  return '/api/admin/documents/' + String(path).split('/').map(encodeURIComponent).join('/') + suffix;
}

function isDirty() {
  return Boolean(docs.current) && $('#doc-text').value !== docs.current.savedText;
}

/* ---------- Document list ---------- */

async function loadDocuments() {
  try {
    const list = await api('/api/admin/documents');
    docs.list = Array.isArray(list) ? list : [];
    showError($('#documents-error'), '');
    renderDocuments();
  } catch (error) {
    showError($('#documents-error'), 'Could not load the documents: ' + errorMessage(error));
  }
}

function renderDocuments() {
  const root = clear($('#documents'));
  if (!docs.list.length) {
    root.append(h('p', { className: 'muted small', text: 'No documents yet.' }));
    return;
  }
  const groups = new Map();
  for (const doc of docs.list) {
    const language = doc.language || String(doc.path).split('/')[0] || 'other';
    if (!groups.has(language)) groups.set(language, []);
    groups.get(language).push(doc);
  }
  const languages = [...groups.keys()].sort((a, b) => (a === 'en' ? -1 : b === 'en' ? 1 : a.localeCompare(b)));
  for (const language of languages) {
    const items = groups.get(language).sort((a, b) => String(a.title || a.path).localeCompare(String(b.title || b.path)));
    const headingId = 'docs-' + language.replace(/[^a-z0-9_-]/gi, '');
    root.append(h('div', { className: 'doc-group' },
      h('h3', { id: headingId },
        h('span', { text: languageName(language) }),
        h('span', { className: 'badge', text: String(language).toUpperCase() })),
      h('ul', { attrs: { 'aria-labelledby': headingId } }, items.map(docItem))));
  }
}

function docItem(doc) {
  const current = docs.current && docs.current.path === doc.path;
  return h('li', { className: 'doc', dataset: { path: doc.path }, attrs: { 'aria-current': current ? 'true' : null } },
    h('button', {
      type: 'button',
      title: doc.updated_at ? 'Version ' + doc.version + ', updated ' + formatDateTime(doc.updated_at) : '',
      on: { click: () => requestOpen(doc.path) },
    },
    h('span', { text: doc.title || doc.path }),
    h('span', { className: 'doc-path', text: doc.path + (doc.version ? ' · v' + doc.version : '') })));
}

function markCurrentDoc() {
  for (const item of document.querySelectorAll('#documents .doc')) {
    if (docs.current && item.dataset.path === docs.current.path) item.setAttribute('aria-current', 'true');
    else item.removeAttribute('aria-current');
  }
}

/** Asks once before unsaved edits are thrown away: a second click on the same document confirms. */
function requestOpen(path) {
  if (docs.current && path === docs.current.path && !docs.pendingSwitch) return;
  if (isDirty() && docs.pendingSwitch !== path) {
    docs.pendingSwitch = path;
    showError($('#documents-error'), 'You have unsaved changes in ' + docs.current.path + '. Save them, or click “' + path + '” again to discard them.');
    return;
  }
  docs.pendingSwitch = null;
  showError($('#documents-error'), '');
  openDocument(path);
}

/* ---------- Editor ---------- */

async function openDocument(path, { keepStatus = false } = {}) {
  showError($('#doc-error'), '');
  if (!keepStatus) showError($('#doc-status'), '');
  $('#doc-conflict').hidden = true;
  try {
    const doc = await api(docUrl(path));
    docs.current = {
      path: doc.path || path,
      version: doc.version,
      versions: Array.isArray(doc.versions) ? doc.versions : [],
      savedText: doc.text || '',
    };
    $('#doc-empty').hidden = true;
    $('#doc-editor').hidden = false;
    $('#doc-title').textContent = docs.current.path;
    $('#doc-text').value = docs.current.savedText;
    updateVersionBadge();
    updateDirty();
    renderVersions();
    resetDiff();
    markCurrentDoc();
    schedulePreview.cancel();
    renderPreview();
  } catch (error) {
    showError($('#documents-error'), 'Could not open ' + path + ': ' + errorMessage(error));
  }
}

function updateVersionBadge() {
  $('#doc-version').textContent = docs.current && docs.current.version !== undefined ? 'Version ' + docs.current.version : '';
}

function updateDirty() {
  $('#doc-dirty').hidden = !isDirty();
}

async function renderPreview() {
  const request = ++docs.previewRequest;
  const text = $('#doc-text').value;
  try {
    const result = await api('/api/admin/preview', { method: 'POST', body: { text } });
    if (request !== docs.previewRequest) return;
    // The server sanitises the preview HTML.
    $('#doc-preview').innerHTML = result && typeof result.html === 'string' ? result.html : '';
    showError($('#preview-error'), '');
  } catch (error) {
    if (request !== docs.previewRequest) return;
    showError($('#preview-error'), 'Preview unavailable: ' + errorMessage(error));
  }
}

const schedulePreview = debounce(renderPreview, PREVIEW_DELAY_MS);

async function saveDocument() {
  if (!docs.current) return;
  const button = $('#doc-save');
  showError($('#doc-error'), '');
  showError($('#doc-status'), '');
  $('#doc-conflict').hidden = true;
  button.disabled = true;
  button.textContent = 'Saving…';
  const text = $('#doc-text').value;
  try {
    const result = await api(docUrl(docs.current.path), {
      method: 'PUT',
      body: { text, base_version: docs.current.version },
    });
    const chunks = result && result.chunks !== undefined ? ' · ' + result.chunks + (result.chunks === 1 ? ' passage' : ' passages') + ' indexed' : '';
    const path = docs.current.path;
    await openDocument(path, { keepStatus: true });
    showError($('#doc-status'), 'Saved as version ' + (result && result.version !== undefined ? result.version : '') + chunks + '.');
    loadDocuments();
  } catch (error) {
    showError($('#doc-error'), errorMessage(error));
    if (error instanceof ApiError && error.status === 409) $('#doc-conflict').hidden = false;
  } finally {
    button.disabled = false;
    button.textContent = 'Save';
  }
}

/* ---------- Versions, diff, restore ---------- */

function renderVersions() {
  const list = clear($('#versions'));
  showError($('#versions-error'), '');
  const versions = [...docs.current.versions].sort((a, b) => Number(b.version) - Number(a.version));
  if (!versions.length) {
    list.append(h('li', { className: 'muted small', text: 'No earlier versions.' }));
    return;
  }
  const current = docs.current.version;
  for (const [index, entry] of versions.entries()) {
    const isCurrent = String(entry.version) === String(current);
    const older = versions[index + 1];
    // Diff: a past version against the current one; the current one against the version before it.
    const from = isCurrent ? (older ? older.version : null) : entry.version;
    const to = current;
    list.append(h('li', {},
      h('div', { className: 'v-meta' },
        h('strong', { text: 'Version ' + entry.version }),
        isCurrent ? h('span', { className: 'badge badge-success', text: 'current' }) : null,
        h('span', { className: 'muted', text: [formatDateTime(entry.at), entry.author].filter(Boolean).join(' · ') })),
      h('div', { className: 'v-buttons' },
        from !== null
          ? h('button', {
            type: 'button',
            className: 'btn btn-secondary btn-sm diff-btn',
            dataset: { version: String(entry.version) },
            text: 'Diff',
            title: isCurrent ? 'What version ' + entry.version + ' changed' : 'Compare version ' + entry.version + ' with the current one',
            attrs: { 'aria-label': 'Diff version ' + entry.version },
            on: { click: () => showDiff(from, to) },
          })
          : null,
        !isCurrent
          ? h('button', {
            type: 'button',
            className: 'btn btn-secondary btn-sm restore',
            dataset: { version: String(entry.version) },
            text: 'Restore',
            attrs: { 'aria-label': 'Restore version ' + entry.version },
            on: { click: (event) => restoreVersion(entry.version, event.currentTarget) },
          })
          : null)));
  }
}

function resetDiff() {
  clear($('#diff')).hidden = true;
  $('#diff-caption').textContent = 'Choose “Diff” on a version to compare it with the current one.';
  showError($('#diff-error'), '');
}

function diffLineClass(line) {
  if (line.startsWith('+++') || line.startsWith('---')) return 'meta';
  if (line.startsWith('@@')) return 'hunk';
  if (line.startsWith('+')) return 'add';
  if (line.startsWith('-')) return 'del';
  return '';
}

async function showDiff(from, to) {
  if (!docs.current) return;
  const box = $('#diff');
  showError($('#diff-error'), '');
  try {
    const result = await api(docUrl(docs.current.path, '/diff') + '?from=' + encodeURIComponent(from) + '&to=' + encodeURIComponent(to));
    const text = (result && result.diff) || '';
    clear(box);
    $('#diff-caption').textContent = 'Changes from version ' + from + ' to version ' + to + '.';
    if (!text.trim()) {
      box.append(h('span', { className: 'line', text: 'No differences.' }));
    } else {
      for (const line of text.replace(/\n$/, '').split('\n')) {
        const kind = diffLineClass(line);
        box.append(h('span', { className: 'line' + (kind ? ' ' + kind : ''), text: line }));
      }
    }
    box.hidden = false;
  } catch (error) {
    showError($('#diff-error'), 'Could not load the diff: ' + errorMessage(error));
  }
}

async function restoreVersion(version, button) {
  if (!docs.current) return;
  if (isDirty() && button.dataset.confirm !== 'yes') {
    button.dataset.confirm = 'yes';
    button.textContent = 'Discard edits and restore';
    showError($('#versions-error'), 'Restoring discards your unsaved changes. Click again to confirm.');
    setTimeout(() => {
      if (!button.isConnected) return;
      delete button.dataset.confirm;
      button.textContent = 'Restore';
    }, 5000);
    return;
  }
  showError($('#versions-error'), '');
  button.disabled = true;
  try {
    const result = await api(docUrl(docs.current.path, '/rollback'), { method: 'POST', body: { version } });
    await openDocument(docs.current.path, { keepStatus: true });
    showError($('#doc-status'), 'Restored version ' + version + (result && result.version !== undefined ? ' as version ' + result.version : '') + '.');
    loadDocuments();
  } catch (error) {
    showError($('#versions-error'), 'Could not restore version ' + version + ': ' + errorMessage(error));
    button.disabled = false;
  }
}

function bindEditor() {
  const text = $('#doc-text');
  text.addEventListener('input', () => {
    updateDirty();
    showError($('#doc-status'), '');
    schedulePreview();
  });
  text.addEventListener('keydown', (event) => {
    if ((event.ctrlKey || event.metaKey) && event.key.toLowerCase() === 's') {
      event.preventDefault();
      saveDocument();
    }
  });
  $('#doc-save').addEventListener('click', saveDocument);
  $('#doc-reload').addEventListener('click', () => {
    if (docs.current) openDocument(docs.current.path);
  });
  window.addEventListener('beforeunload', (event) => {
    if (isDirty() || isPolicyDirty()) {
      event.preventDefault();
      event.returnValue = '';
    }
  });
}

/* ---------- Re-index ---------- */

function setReindexProgress(done, total) {
  const bar = $('#reindex-progress');
  bar.hidden = false;
  if (total > 0) {
    bar.max = total;
    bar.value = Math.min(done, total);
  } else {
    bar.removeAttribute('value');
  }
}

async function startReindex() {
  const button = $('#reindex');
  const label = $('#reindex-label');
  showError($('#reindex-error'), '');
  button.disabled = true;
  label.textContent = 'Starting…';
  setReindexProgress(0, 0);
  try {
    const result = await api('/api/admin/reindex', { method: 'POST' });
    pollReindex(result.job);
  } catch (error) {
    showError($('#reindex-error'), 'Could not start re-indexing: ' + errorMessage(error));
    label.textContent = '';
    $('#reindex-progress').hidden = true;
    button.disabled = false;
  }
}

async function pollReindex(job) {
  const button = $('#reindex');
  const label = $('#reindex-label');
  try {
    const status = await api('/api/admin/reindex/' + encodeURIComponent(job));
    const done = Number(status.done) || 0;
    const total = Number(status.total) || 0;
    if (status.state === 'running') {
      setReindexProgress(done, total);
      label.textContent = total ? 'Indexing… ' + done + ' of ' + total : 'Indexing…';
      setTimeout(() => pollReindex(job), REINDEX_POLL_MS);
      return;
    }
    if (status.state === 'done') {
      setReindexProgress(total || 1, total || 1);
      label.textContent = 'Done: ' + (total ? done + ' of ' + total + ' indexed' : 'index up to date') + '.';
      loadDocuments();
    } else {
      label.textContent = 'Failed at ' + done + (total ? ' of ' + total : '') + '.';
      showError($('#reindex-error'), 'Re-indexing failed: ' + (status.error || 'unknown error'));
    }
  } catch (error) {
    label.textContent = '';
    showError($('#reindex-error'), 'Lost track of the re-indexing job: ' + errorMessage(error));
  }
  button.disabled = false;
}

/* ---------- Policy profile ---------- */

const policy = { savedYaml: '', errorLines: new Set() };

function isPolicyDirty() {
  return $('#policy-yaml').value !== policy.savedYaml;
}

function renderGutter() {
  const gutter = $('#policy-gutter');
  const count = $('#policy-yaml').value.split('\n').length;
  if (gutter.childElementCount !== count) {
    clear(gutter);
    const fragment = document.createDocumentFragment();
    for (let line = 1; line <= count; line += 1) fragment.append(h('div', { text: String(line) }));
    gutter.append(fragment);
  }
  [...gutter.children].forEach((row, index) => {
    row.classList.toggle('gutter-error', policy.errorLines.has(index + 1));
  });
  gutter.scrollTop = $('#policy-yaml').scrollTop;
}

function goToLine(line) {
  const textarea = $('#policy-yaml');
  const lines = textarea.value.split('\n');
  const target = Math.max(1, Math.min(line, lines.length));
  let start = 0;
  for (let i = 0; i < target - 1; i += 1) start += lines[i].length + 1;
  textarea.focus();
  textarea.setSelectionRange(start, start + lines[target - 1].length);
  const lineHeight = parseFloat(getComputedStyle(textarea).lineHeight) || 20;
  textarea.scrollTop = Math.max(0, (target - 3) * lineHeight);
  renderGutter();
}

function renderPolicyErrors(errors) {
  const list = clear($('#policy-errors'));
  policy.errorLines = new Set();
  for (const problem of errors) {
    const line = Number.isInteger(problem.line) ? problem.line : null;
    if (line) policy.errorLines.add(line);
    list.append(h('li', {},
      problem.path ? h('code', { text: problem.path }) : null,
      h('span', { className: 'message', text: problem.message || 'Invalid value' }),
      line ? h('button', { type: 'button', className: 'link-button', text: 'line ' + line, on: { click: () => goToLine(line) } }) : null));
  }
  $('#policy-yaml').setAttribute('aria-invalid', errors.length ? 'true' : 'false');
  renderGutter();
}

async function loadPolicy() {
  try {
    const result = await api('/api/admin/policy');
    $('#policy-name').textContent = result.name || '';
    $('#policy-name').hidden = !result.name;
    policy.savedYaml = result.yaml || '';
    $('#policy-yaml').value = policy.savedYaml;
    renderPolicyErrors([]);
    $('#policy-dirty').hidden = true;
  } catch (error) {
    showError($('#policy-error'), 'Could not load the policy profile: ' + errorMessage(error));
  }
}

async function savePolicy() {
  const button = $('#policy-save');
  const yaml = $('#policy-yaml').value;
  showError($('#policy-error'), '');
  showError($('#policy-status'), '');
  button.disabled = true;
  button.textContent = 'Checking…';
  try {
    await api('/api/admin/policy', { method: 'PUT', body: { yaml } });
    policy.savedYaml = yaml;
    renderPolicyErrors([]);
    $('#policy-dirty').hidden = true;
    showError($('#policy-status'), 'The profile is valid and saved. The agent uses it from the next turn.');
  } catch (error) {
    const problems = error instanceof ApiError && error.data && Array.isArray(error.data.errors) ? error.data.errors : [];
    renderPolicyErrors(problems);
    const count = problems.length;
    const summary = error instanceof ApiError && error.data && error.data.error
      ? error.data.error
      : count + (count === 1 ? ' problem' : ' problems') + ' to fix';
    showError($('#policy-error'), count
      ? summary.charAt(0).toUpperCase() + summary.slice(1) + '. Nothing was saved.'
      : errorMessage(error));
  } finally {
    button.disabled = false;
    button.textContent = 'Validate and save';
  }
}

function bindPolicy() {
  const textarea = $('#policy-yaml');
  textarea.addEventListener('input', () => {
    $('#policy-dirty').hidden = !isPolicyDirty();
    showError($('#policy-status'), '');
    renderGutter();
  });
  textarea.addEventListener('scroll', () => {
    $('#policy-gutter').scrollTop = textarea.scrollTop;
  });
  textarea.addEventListener('keydown', (event) => {
    if ((event.ctrlKey || event.metaKey) && event.key.toLowerCase() === 's') {
      event.preventDefault();
      savePolicy();
    }
  });
  $('#policy-save').addEventListener('click', savePolicy);
}

/* ---------- Start ---------- */

async function main() {
  let me;
  try {
    me = await mountTopBar({ require: 'admin' });
  } catch (error) {
    showError($('#page-error'), errorMessage(error));
    return;
  }
  if (!me) return;
  if (me.user.role !== 'admin') {
    $('#not-admin').hidden = false;
    $('#admin-sections').hidden = true;
    return;
  }
  bindEditor();
  bindPolicy();
  $('#reindex').addEventListener('click', startReindex);
  await Promise.all([loadDocuments(), loadPolicy()]);
}

main();
