// Helloword — helpers shared by the sign-in page, the console, the admin and the demo shop:
// JSON calls to the API (session cookie + CSRF header), the top bar, and small DOM and format helpers.

let csrfToken = null;

export class ApiError extends Error {
  constructor(status, message, data) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.data = data || null;
  }
}

export function setCsrf(token) {
  csrfToken = token || null;
}

/** Where the sign-in page sends the user back to. */
export function loginUrl() {
  const here = location.pathname + location.search + location.hash;
  return '/login?next=' + encodeURIComponent(here);
}

export function goToLogin() {
  location.assign(loginUrl());
}

function messageFromBody(status, data, text) {
  if (data && typeof data.error === 'string' && data.error) return data.error;
  if (data && typeof data.detail === 'string' && data.detail) return data.detail;
  if (data && Array.isArray(data.detail)) {
    const parts = data.detail.map((d) => (d && d.msg ? String(d.msg) : '')).filter(Boolean);
    if (parts.length) return parts.join('; ');
  }
  if (status === 0) return 'The server could not be reached. Check your connection and try again.';
  if (status === 401) return 'Your session has ended. Please sign in again.';
  if (status === 403) return 'You do not have permission to do this.';
  if (status === 404) return 'Not found.';
  if (status === 429) return 'Too many requests. Please wait a moment and try again.';
  if (status >= 500) return 'The server had a problem (' + status + '). Please try again.';
  return (text && text.length < 200 ? text : '') || 'Request failed (' + status + ').';
}

/**
 * Calls the API and returns the parsed JSON body. Throws ApiError with the server's message.
 * Writes carry the CSRF token and a JSON body; a 401 sends the user to the sign-in page
 * unless `redirectOn401` is false.
 */
export async function api(path, { method = 'GET', body, redirectOn401 = true, signal } = {}) {
  const headers = { Accept: 'application/json' };
  const options = { method, headers, credentials: 'same-origin', signal };
  if (method !== 'GET' && method !== 'HEAD') {
    headers['Content-Type'] = 'application/json';
    if (csrfToken) headers['X-CSRF-Token'] = csrfToken;
    options.body = JSON.stringify(body === undefined ? {} : body);
  }
  let response;
  try {
    response = await fetch(path, options);
  } catch (error) {
    if (error && error.name === 'AbortError') throw error;
    throw new ApiError(0, messageFromBody(0, null, ''), null);
  }
  const type = response.headers.get('content-type') || '';
  let data = null;
  let text = '';
  if (type.includes('json')) {
    data = await response.json().catch(() => null);
  } else {
    text = await response.text().catch(() => '');
  }
  if (!response.ok) {
    if (response.status === 401 && redirectOn401) goToLogin();
    throw new ApiError(response.status, messageFromBody(response.status, data, text), data);
  }
  return data;
}

/* ---------- DOM helpers ---------- */

/**
 * Creates an element. `props`: className, text, attrs {}, dataset {}, on {event: fn}, and any
 * other plain property (hidden, type, value, disabled…). Children: nodes or strings (as text).
 */
export function h(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value === undefined || value === null) continue;
    if (key === 'className') node.className = value;
    else if (key === 'text') node.textContent = String(value);
    else if (key === 'attrs') for (const [a, v] of Object.entries(value)) { if (v !== null && v !== undefined && v !== false) node.setAttribute(a, v === true ? '' : String(v)); }
    else if (key === 'dataset') Object.assign(node.dataset, value);
    else if (key === 'on') for (const [event, fn] of Object.entries(value)) node.addEventListener(event, fn);
    else node[key] = value;
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(node, child);
    else node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export function clear(node) {
  while (node.firstChild) node.removeChild(node.firstChild);
  return node;
}

export function $(selector, root = document) {
  return root.querySelector(selector);
}

/** Puts a message in an error line (empty string hides it). */
export function showError(node, message) {
  if (!node) return;
  node.textContent = message || '';
}

export function errorMessage(error) {
  if (error instanceof ApiError) return error.message;
  return 'Something went wrong. Please try again.';
}

/* ---------- Formatting ---------- */

const languageNames = (() => {
  try {
    return new Intl.DisplayNames(['en'], { type: 'language' });
  } catch {
    return null;
  }
})();

export function languageName(code) {
  if (!code) return '';
  try {
    const name = languageNames ? languageNames.of(code) : '';
    return name && name !== code ? name : String(code).toUpperCase();
  } catch {
    return String(code).toUpperCase();
  }
}

function toDate(value) {
  if (value === null || value === undefined || value === '') return null;
  if (typeof value === 'number') return new Date(value < 1e12 ? value * 1000 : value);
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? null : date;
}

export function formatDateTime(value) {
  if (typeof value === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(value)) {
    const day = new Date(value + 'T00:00:00Z');
    if (!Number.isNaN(day.getTime())) return day.toLocaleDateString(undefined, { dateStyle: 'medium', timeZone: 'UTC' });
  }
  const date = toDate(value);
  if (!date) return value ? String(value) : '';
  return date.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

export function isoOf(value) {
  const date = toDate(value);
  return date ? date.toISOString() : '';
}

/** "2 h 05 min", "45 min", "3 d 04 h", "overdue 12 min". */
export function formatTimeLeft(seconds) {
  if (seconds === null || seconds === undefined || Number.isNaN(Number(seconds))) return { text: '—', overdue: false };
  const value = Number(seconds);
  const overdue = value < 0;
  const minutes = Math.floor(Math.abs(value) / 60);
  let text;
  if (minutes < 1) text = '< 1 min';
  else if (minutes < 60) text = minutes + ' min';
  else if (minutes < 48 * 60) text = Math.floor(minutes / 60) + ' h ' + String(minutes % 60).padStart(2, '0') + ' min';
  else text = Math.floor(minutes / 1440) + ' d ' + String(Math.floor((minutes % 1440) / 60)).padStart(2, '0') + ' h';
  return { text: overdue ? 'overdue ' + text : text, overdue };
}

export function humanize(key) {
  const text = String(key).replace(/[_-]+/g, ' ').trim();
  return text.charAt(0).toUpperCase() + text.slice(1);
}

export function debounce(fn, wait) {
  let timer = null;
  const wrapped = (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), wait);
  };
  wrapped.cancel = () => clearTimeout(timer);
  return wrapped;
}

/* ---------- Top bar ---------- */

function initials(user) {
  const source = (user.name || user.email || '?').trim();
  const parts = source.split(/[\s@._-]+/).filter(Boolean);
  return ((parts[0] || '?').charAt(0) + (parts[1] ? parts[1].charAt(0) : '')).toUpperCase();
}

function markCurrentNav() {
  for (const link of document.querySelectorAll('.topnav a[href]')) {
    if (link.getAttribute('href') === location.pathname) link.setAttribute('aria-current', 'page');
  }
}

/**
 * Fills the top bar with the signed-in user and wires "Sign out".
 * `require`: null (anyone), "agent" (any signed-in user) or "admin".
 * Returns {user, csrf} or null when nobody is signed in.
 */
export async function mountTopBar({ require = null } = {}) {
  markCurrentNav();
  const userBox = $('#session-user');
  const signOut = $('#sign-out');
  const signIn = $('#sign-in');
  const adminLink = $('#admin-link');

  let me = null;
  try {
    me = await api('/api/auth/me', { redirectOn401: false });
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) {
      if (require) {
        goToLogin();
        return null;
      }
      if (signIn) signIn.hidden = location.pathname === '/login';
      return null;
    }
    if (require) throw error;
    return null;
  }
  if (!me || !me.user) {
    if (require) goToLogin();
    return null;
  }

  setCsrf(me.csrf);
  const user = me.user;
  if (userBox) {
    clear(userBox).append(
      h('span', { className: 'avatar', attrs: { 'aria-hidden': 'true' }, text: initials(user) }),
      h('span', { className: 'who', text: user.name || user.email, title: user.email || '' }),
      user.role ? h('span', { className: 'role-tag', text: user.role }) : null,
    );
    userBox.hidden = false;
  }
  if (adminLink) adminLink.hidden = user.role !== 'admin';
  if (signIn) signIn.hidden = true;
  if (signOut) {
    signOut.hidden = false;
    signOut.addEventListener('click', async () => {
      signOut.disabled = true;
      try {
        await api('/api/auth/logout', { method: 'POST', redirectOn401: false });
      } catch {
        // Signed out already or the server is away: the sign-in page is the right place either way.
      }
      location.assign('/login');
    });
  }
  return me;
}
