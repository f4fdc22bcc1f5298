/*
 * Helloword chat widget.
 *
 * A seller adds one tag to any page:
 *   <script src="https://HOST/widget.js" data-locale="es" data-shop="Demo Shop"
 *           data-customer-token="(optional signed token)" async></script>
 *
 * It adds a round chat button in the corner; the panel talks to the Helloword server the script
 * came from: it keeps the conversation across reloads, streams the agent's reply as it is
 * written, shows replies from the support team as they arrive, asks Yes / No when the agent
 * needs a confirmation and a 1–5 rating once the request is resolved, in the customer's language.
 */
(() => {
  'use strict';

  if (typeof window === 'undefined' || typeof document === 'undefined') return;
  if (document.getElementById('helloword-widget')) return;

  const script = document.currentScript
    || Array.from(document.getElementsByTagName('script')).find((s) => /\/widget\.js(?:[?#]|$)/.test(s.src));
  if (!script || !script.src) return;

  const BASE = new URL(script.src, window.location.href).origin;
  const STORAGE_KEY = 'helloword.conversation';
  const RTL_LANGUAGES = new Set(['ar', 'he', 'fa', 'ur']);
  const DEFAULT_UI = {
    yes: 'Yes',
    no: 'No',
    send: 'Send',
    placeholder: 'Write your message…',
    rate: 'How would you rate this conversation?',
    title: 'Customer support',
    thanks: 'Thank you for your feedback!',
    error: 'Something went wrong. Please try again.',
    wait: 'Please wait a moment before sending another message.',
    team: 'Support team',
    // Used when the server's labels do not carry it.
    close: 'Close',
  };

  const data = script.dataset || {};
  const config = {
    locale: normaliseLanguage(data.locale || ''),
    shop: data.shop || '',
    customerToken: data.customerToken || '',
    accent: data.accent || '',
  };
  const startLanguage = config.locale || normaliseLanguage(navigator.language || '') || 'en';

  const state = {
    ui: Object.assign({}, DEFAULT_UI),
    uiLanguage: null,
    language: startLanguage,
    dir: RTL_LANGUAGES.has(startLanguage) ? 'rtl' : 'ltr',
    conversation: null, // {id, token}
    status: null,
    rating: null,
    rated: false,
    loaded: false,
    opening: null,
    busy: false,
    open: false,
    unread: 0,
    events: null,
    eventsRetry: 0,
    eventsTimer: null,
    typing: null, // {node, text}
    heldMessages: [], // agent messages pushed while a turn is in flight
    lastReply: { text: '', at: 0 },
    pendingStatus: null, // a status pushed while a turn is in flight
    waitTimer: null,
    waitUntil: 0,
  };

  /* ---------- Small helpers ---------- */

  function normaliseLanguage(value) {
    const match = /^([a-z]{2,3})(?:[-_].*)?$/i.exec(String(value).trim());
    return match ? match[1].toLowerCase() : '';
  }

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  const SVG_NS = 'http://www.w3.org/2000/svg';
  function icon(paths, className) {
    const svg = document.createElementNS(SVG_NS, 'svg');
    svg.setAttribute('viewBox', '0 0 24 24');
    svg.setAttribute('aria-hidden', 'true');
    svg.setAttribute('focusable', 'false');
    if (className) svg.setAttribute('class', className);
    for (const d of paths) {
      const path = document.createElementNS(SVG_NS, 'path');
      path.setAttribute('d', d);
      svg.appendChild(path);
    }
    return svg;
  }

  const ICON_CHAT = ['M4 5.5A2.5 2.5 0 0 1 6.5 3h11A2.5 2.5 0 0 1 20 5.5v8a2.5 2.5 0 0 1-2.5 2.5H10l-4.2 3.6A.5.5 0 0 1 5 19.2V16h.5A1.5 1.5 0 0 1 4 14.5z'];
  const ICON_CLOSE = ['M6 6l12 12M18 6L6 18'];
  const ICON_SEND = ['M4 12l16-8-6 16-2.5-6.5z', 'M11.5 13.5L20 4'];

  function toDate(value) {
    if (value === null || value === undefined || value === '') return null;
    const date = typeof value === 'number' ? new Date(value < 1e12 ? value * 1000 : value) : new Date(value);
    return Number.isNaN(date.getTime()) ? null : date;
  }

  function formatTime(value) {
    const date = toDate(value) || new Date();
    return date.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });
  }

  /** Text with web links made clickable; everything else stays plain text. */
  function fillText(node, text) {
    const value = String(text || '');
    const pattern = /\bhttps?:\/\/[^\s<>"']+[^\s<>"'.,;:!?)\]]/g;
    let last = 0;
    let match;
    while ((match = pattern.exec(value))) {
      if (match.index > last) node.appendChild(document.createTextNode(value.slice(last, match.index)));
      const link = el('a', null, match[0]);
      link.href = match[0];
      link.target = '_blank';
      link.rel = 'noopener noreferrer';
      node.appendChild(link);
      last = match.index + match[0].length;
    }
    if (last < value.length) node.appendChild(document.createTextNode(value.slice(last)));
  }

  function readStored() {
    try {
      const value = JSON.parse(window.localStorage.getItem(STORAGE_KEY) || 'null');
      return value && value.id && value.token ? { id: String(value.id), token: String(value.token) } : null;
    } catch (_) {
      return null;
    }
  }

  function store(conversation) {
    try {
      if (conversation) window.localStorage.setItem(STORAGE_KEY, JSON.stringify({ id: conversation.id, token: conversation.token }));
      else window.localStorage.removeItem(STORAGE_KEY);
    } catch (_) {
      // Private browsing: the conversation lasts as long as the page.
    }
  }

  /* ---------- HTTP ---------- */

  async function request(method, path, body, auth) {
    const headers = { Accept: 'application/json' };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (auth && state.conversation) headers.Authorization = 'Bearer ' + state.conversation.token;
    let response;
    try {
      response = await fetch(BASE + path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        credentials: 'omit',
        mode: 'cors',
      });
    } catch (_) {
      return { ok: false, status: 0, data: null, retryAfter: 0 };
    }
    let payload = null;
    try {
      payload = await response.json();
    } catch (_) {
      payload = null;
    }
    // Retry-After may be hidden from cross-origin pages; the error body carries it too.
    let retry = Number(response.headers.get('Retry-After'));
    if (!retry && payload && Number(payload.retry_after)) retry = Number(payload.retry_after);
    return { ok: response.ok, status: response.status, data: payload, retryAfter: Number.isFinite(retry) ? retry : 0 };
  }

  function conversationPath(suffix) {
    return '/api/conversations/' + encodeURIComponent(state.conversation.id) + (suffix || '');
  }

  /* ---------- Building the widget ---------- */

  const root = el('div', 'hw-root');
  root.id = 'helloword-widget';
  root.style.visibility = 'hidden';
  if (config.accent && /^#[0-9a-f]{3,8}$/i.test(config.accent)) root.style.setProperty('--hw-accent', config.accent);

  const launcher = el('button', 'hw-launcher');
  launcher.id = 'helloword-launcher';
  launcher.type = 'button';
  launcher.setAttribute('aria-expanded', 'false');
  launcher.setAttribute('aria-controls', 'helloword-panel');
  launcher.setAttribute('aria-haspopup', 'dialog');
  launcher.appendChild(icon(ICON_CHAT, 'hw-icon-chat'));
  launcher.appendChild(icon(ICON_CLOSE, 'hw-icon-close'));
  const badge = el('span', 'hw-badge');
  badge.hidden = true;
  badge.setAttribute('aria-hidden', 'true');
  launcher.appendChild(badge);

  const panel = el('div', 'hw-panel');
  panel.id = 'helloword-panel';
  panel.setAttribute('role', 'dialog');
  panel.setAttribute('aria-modal', 'false');
  panel.hidden = true;

  const header = el('div', 'hw-header');
  const avatar = el('div', 'hw-avatar');
  avatar.appendChild(icon(ICON_CHAT));
  const heading = el('div', 'hw-heading');
  const title = el('div', 'hw-title');
  title.id = 'helloword-title';
  title.setAttribute('role', 'heading');
  title.setAttribute('aria-level', '2');
  const subtitle = el('div', 'hw-subtitle', config.shop);
  subtitle.hidden = !config.shop;
  heading.appendChild(title);
  heading.appendChild(subtitle);
  const closeButton = el('button', 'hw-close');
  closeButton.type = 'button';
  closeButton.appendChild(icon(ICON_CLOSE));
  header.appendChild(avatar);
  header.appendChild(heading);
  header.appendChild(closeButton);

  const log = el('div', 'hw-log');
  log.setAttribute('role', 'log');
  log.setAttribute('aria-live', 'polite');
  log.setAttribute('aria-relevant', 'additions');
  log.tabIndex = 0;
  const controls = el('div', 'hw-controls');
  log.appendChild(controls);

  const notice = el('div', 'hw-notice');
  notice.setAttribute('role', 'status');
  notice.hidden = true;

  const composer = el('form', 'hw-composer');
  composer.noValidate = true;
  const inputLabel = el('label', 'hw-sr');
  inputLabel.htmlFor = 'helloword-input';
  const input = el('textarea', 'hw-input');
  input.id = 'helloword-input';
  input.rows = 1;
  input.maxLength = 4000;
  input.setAttribute('autocomplete', 'off');
  const sendButton = el('button', 'hw-send');
  sendButton.id = 'helloword-send';
  sendButton.type = 'submit';
  const sendText = el('span', 'hw-send-text');
  sendButton.appendChild(icon(ICON_SEND));
  sendButton.appendChild(sendText);
  composer.appendChild(inputLabel);
  composer.appendChild(input);
  composer.appendChild(sendButton);

  const footer = el('div', 'hw-footer', 'Helloword');

  panel.appendChild(header);
  panel.appendChild(log);
  panel.appendChild(notice);
  panel.appendChild(composer);
  panel.appendChild(footer);
  root.appendChild(panel);
  root.appendChild(launcher);

  /* ---------- Labels, language and direction ---------- */

  function applyLabels() {
    const ui = state.ui;
    launcher.setAttribute('aria-label', state.open ? ui.close : ui.title);
    launcher.title = ui.title;
    panel.setAttribute('aria-label', ui.title);
    title.textContent = ui.title;
    closeButton.setAttribute('aria-label', ui.close);
    closeButton.title = ui.close;
    inputLabel.textContent = ui.placeholder;
    input.placeholder = ui.placeholder;
    sendText.textContent = ui.send;
    for (const button of controls.querySelectorAll('.hw-yes')) button.textContent = ui.yes;
    for (const button of controls.querySelectorAll('.hw-no')) button.textContent = ui.no;
    const legend = controls.querySelector('.hw-rating legend');
    if (legend) legend.textContent = ui.rate;
    const thanks = controls.querySelector('.hw-thanks');
    if (thanks) thanks.textContent = ui.thanks;
    for (const tag of log.querySelectorAll('.hw-tag')) tag.textContent = ui.team;
    const emptyText = log.querySelector('.hw-empty-text');
    if (emptyText) emptyText.textContent = ui.placeholder;
  }

  function setLabels(labels, language) {
    if (!labels || typeof labels !== 'object') return;
    const next = Object.assign({}, state.ui);
    for (const [key, value] of Object.entries(labels)) {
      if (typeof value === 'string' && value.trim()) next[key] = value;
    }
    state.ui = next;
    if (language) state.uiLanguage = language;
    applyLabels();
  }

  async function loadLabels(language) {
    const lang = normaliseLanguage(language) || 'en';
    if (state.uiLanguage === lang) return;
    const result = await request('GET', '/api/ui/' + encodeURIComponent(lang));
    if (result.ok && result.data) {
      setLabels(result.data, lang);
      if (result.data.dir) setDirection(result.data.dir, lang);
    } else if (lang !== 'en' && !state.uiLanguage) {
      state.uiLanguage = 'en';
    }
  }

  function setDirection(dir, language) {
    const rtl = dir === 'rtl' || (!dir && RTL_LANGUAGES.has(language)) || language === 'ar';
    state.dir = rtl ? 'rtl' : 'ltr';
    panel.setAttribute('dir', state.dir);
    root.classList.toggle('hw-rtl', rtl);
  }

  function setLanguage(language, dir) {
    const lang = normaliseLanguage(language || '');
    if (lang) {
      state.language = lang;
      panel.setAttribute('lang', lang);
    }
    setDirection(dir || '', state.language);
  }

  /* ---------- Messages ---------- */

  function isNearEnd() {
    return log.scrollHeight - log.scrollTop - log.clientHeight < 80;
  }

  /** Runs `change` on the list and keeps it scrolled to the end if it was there (or if forced). */
  function keepAtEnd(change, force) {
    const stick = force || isNearEnd();
    const result = change();
    if (stick) log.scrollTop = log.scrollHeight;
    return result;
  }

  function scrollToEnd(force) {
    keepAtEnd(() => {}, force);
  }

  function roleClass(role) {
    if (role === 'customer') return 'hw-customer';
    if (role === 'human') return 'hw-human';
    if (role === 'system') return 'hw-system';
    return 'hw-agent';
  }

  function messageNode(role, text, at) {
    const node = el('div', 'hw-msg ' + roleClass(role));
    if (role === 'human') node.appendChild(el('span', 'hw-tag', state.ui.team));
    const body = el('div', 'hw-text');
    fillText(body, text);
    node.appendChild(body);
    if (role !== 'system') {
      const time = el('time', 'hw-time', formatTime(at));
      const date = toDate(at);
      if (date) time.dateTime = date.toISOString();
      node.appendChild(time);
    }
    return node;
  }

  function addMessage(role, text, at, options) {
    if (!text && text !== 0) return null;
    const node = messageNode(role, text, at);
    keepAtEnd(() => {
      log.insertBefore(node, controls);
      removeEmptyState();
    }, options && options.force);
    if (!state.open && role !== 'customer' && !(options && options.history)) {
      state.unread += 1;
      badge.textContent = state.unread > 9 ? '9+' : String(state.unread);
      badge.hidden = false;
    }
    return node;
  }

  function clearMessages() {
    for (const node of Array.from(log.children)) {
      if (node !== controls) node.remove();
    }
  }

  function showEmptyState() {
    if (log.querySelector('.hw-msg') || log.querySelector('.hw-empty')) return;
    const empty = el('div', 'hw-empty');
    const mark = el('div', 'hw-empty-icon');
    mark.appendChild(icon(ICON_CHAT));
    empty.appendChild(mark);
    if (config.shop) empty.appendChild(el('div', 'hw-empty-title', config.shop));
    empty.appendChild(el('div', 'hw-empty-text', state.ui.placeholder));
    log.insertBefore(empty, controls);
  }

  function removeEmptyState() {
    const empty = log.querySelector('.hw-empty');
    if (empty) empty.remove();
  }

  /* Typing bubble: the agent's reply as it is written. Hidden from screen readers; the final
     reply is added as a new message so it is announced once. */

  function ensureTyping() {
    if (state.typing) return state.typing;
    const node = el('div', 'hw-msg hw-agent hw-typing');
    node.setAttribute('aria-hidden', 'true');
    const body = el('div', 'hw-text');
    const dots = el('span', 'hw-dots');
    dots.appendChild(el('span'));
    dots.appendChild(el('span'));
    dots.appendChild(el('span'));
    node.appendChild(dots);
    node.appendChild(body);
    log.insertBefore(node, controls);
    removeEmptyState();
    state.typing = { node, body, text: '' };
    scrollToEnd(true);
    return state.typing;
  }

  function streamToken(text) {
    const typing = ensureTyping();
    keepAtEnd(() => {
      typing.text += text;
      typing.body.textContent = typing.text;
      typing.node.classList.add('hw-streaming');
    });
  }

  function resetTyping() {
    if (!state.typing) return;
    state.typing.text = '';
    state.typing.body.textContent = '';
    state.typing.node.classList.remove('hw-streaming');
  }

  function removeTyping() {
    if (state.typing) state.typing.node.remove();
    state.typing = null;
  }

  function finishTyping(role, text, at) {
    const hadTyping = Boolean(state.typing);
    removeTyping();
    return addMessage(role, text, at, { force: hadTyping });
  }

  /* ---------- Notices (wait, errors) ---------- */

  function showNotice(text, kind) {
    notice.textContent = text;
    notice.className = 'hw-notice ' + (kind === 'error' ? 'hw-error' : 'hw-wait');
    notice.hidden = !text;
  }

  function clearNotice() {
    notice.hidden = true;
    notice.textContent = '';
  }

  function waitFor(seconds) {
    const wait = Math.min(Math.max(Math.ceil(seconds || 5), 1), 120);
    clearTimeout(state.waitTimer);
    state.waitUntil = Date.now() + wait * 1000;
    showNotice(state.ui.wait, 'wait');
    updateSendState();
    state.waitTimer = setTimeout(() => {
      state.waitUntil = 0;
      clearNotice();
      updateSendState();
    }, wait * 1000);
  }

  function updateSendState() {
    const waiting = state.waitUntil && Date.now() < state.waitUntil;
    sendButton.disabled = state.busy || Boolean(waiting);
    for (const button of controls.querySelectorAll('.hw-yes, .hw-no, .hw-choice')) button.disabled = state.busy || Boolean(waiting);
    root.classList.toggle('hw-busy', state.busy);
  }

  /* ---------- Yes / No and rating ---------- */

  function renderControls() {
    const stick = isNearEnd();
    while (controls.firstChild) controls.removeChild(controls.firstChild);
    if (state.busy) return;
    if (state.status === 'awaiting_confirmation') {
      const row = el('div', 'hw-quick');
      const yes = el('button', 'hw-chip hw-yes', state.ui.yes);
      yes.type = 'button';
      yes.addEventListener('click', () => send(state.ui.yes));
      const no = el('button', 'hw-chip hw-no', state.ui.no);
      no.type = 'button';
      no.addEventListener('click', () => send(state.ui.no));
      row.appendChild(yes);
      row.appendChild(no);
      controls.appendChild(row);
      updateSendState();
    } else if (state.choices && state.choices.length) {
      // The agent did not understand twice: the topics it can help with, as buttons.
      const row = el('div', 'hw-quick hw-choices');
      for (const choice of state.choices) {
        const button = el('button', 'hw-chip hw-choice', choice);
        button.type = 'button';
        button.addEventListener('click', () => send(choice));
        row.appendChild(button);
      }
      controls.appendChild(row);
      updateSendState();
    } else if (state.status === 'resolved') {
      if (state.rated || (state.rating !== null && state.rating !== undefined)) {
        if (state.rated) controls.appendChild(el('p', 'hw-thanks', state.ui.thanks));
      } else {
        controls.appendChild(ratingNode());
      }
    }
    if (stick) log.scrollTop = log.scrollHeight;
  }

  function ratingNode() {
    const fieldset = el('fieldset', 'hw-rating');
    const legend = el('legend', 'hw-rating-label', state.ui.rate);
    fieldset.appendChild(legend);
    const stars = el('div', 'hw-stars');
    const name = 'hw-score-' + Math.random().toString(36).slice(2, 8);
    const labels = [];
    let arrowNavigation = false;

    const paint = (value) => {
      labels.forEach((label, index) => label.classList.toggle('hw-on', index < value));
    };
    const checkedValue = () => {
      const checked = fieldset.querySelector('input:checked');
      return checked ? Number(checked.value) : 0;
    };

    const submitRow = el('div', 'hw-rating-actions');
    const submit = el('button', 'hw-chip hw-rate-send', state.ui.send);
    submit.type = 'button';
    submitRow.hidden = true;
    submitRow.appendChild(submit);
    const error = el('p', 'hw-rating-error');
    error.hidden = true;

    const submitScore = async (score) => {
      if (!score || fieldset.disabled) return;
      fieldset.disabled = true;
      error.hidden = true;
      const result = await request('POST', conversationPath('/rating'), { score }, true);
      if (result.ok) {
        // Keep the chosen stars on screen, greyed out, with the thanks under them.
        state.rated = true;
        state.rating = score;
        paint(score);
        submitRow.hidden = true;
        fieldset.classList.add('hw-rated');
        if (!controls.querySelector('.hw-thanks')) controls.appendChild(el('p', 'hw-thanks', state.ui.thanks));
        scrollToEnd(true);
        if (state.open && !panel.contains(document.activeElement)) input.focus({ preventScroll: true });
      } else {
        fieldset.disabled = false;
        error.textContent = (result.data && result.data.error) || state.ui.error;
        error.hidden = false;
      }
    };

    for (let value = 1; value <= 5; value += 1) {
      const label = el('label', 'hw-star');
      const radio = el('input');
      radio.type = 'radio';
      radio.name = name;
      radio.value = String(value);
      radio.setAttribute('aria-label', value + ' / 5');
      const star = el('span', 'hw-star-shape', '★');
      star.setAttribute('aria-hidden', 'true');
      label.appendChild(radio);
      label.appendChild(star);
      label.addEventListener('mouseenter', () => { if (!fieldset.disabled) paint(value); });
      stars.appendChild(label);
      labels.push(label);
    }
    stars.addEventListener('mouseleave', () => paint(checkedValue()));

    // Arrow keys move between stars without sending; Enter or Space sends the chosen one.
    // A click (or tap) on a star sends it right away.
    fieldset.addEventListener('keydown', (event) => {
      if (['ArrowLeft', 'ArrowRight', 'ArrowUp', 'ArrowDown', 'Home', 'End'].includes(event.key)) {
        arrowNavigation = true;
        setTimeout(() => { arrowNavigation = false; }, 0);
      } else if ((event.key === 'Enter' || event.key === ' ') && event.target.type === 'radio' && event.target.checked) {
        event.preventDefault();
        submitScore(Number(event.target.value));
      }
    });
    fieldset.addEventListener('change', (event) => {
      const value = Number(event.target.value);
      paint(value);
      if (arrowNavigation) {
        arrowNavigation = false;
        submitRow.hidden = false;
        return;
      }
      submitScore(value);
    });
    submit.addEventListener('click', () => submitScore(checkedValue()));

    fieldset.appendChild(stars);
    fieldset.appendChild(submitRow);
    fieldset.appendChild(error);
    return fieldset;
  }

  function setStatus(status) {
    if (!status || status === state.status) return;
    state.status = status;
    renderControls();
  }

  /* ---------- Conversation ---------- */

  async function createConversation() {
    const body = {};
    if (startLanguage) body.locale = startLanguage;
    if (config.customerToken) body.customer_token = config.customerToken;
    let result = await request('POST', '/api/conversations', body);
    if (!result.ok && body.locale && (result.status === 400 || result.status === 422)) {
      // An unsupported browser language: let the server detect it from the first message.
      delete body.locale;
      result = await request('POST', '/api/conversations', body);
    }
    if (!result.ok || !result.data || !result.data.id) {
      if (result.status === 429) waitFor(result.retryAfter);
      else showNotice((result.data && result.data.error) || state.ui.error, 'error');
      return false;
    }
    state.conversation = { id: String(result.data.id), token: String(result.data.token) };
    store(state.conversation);
    if (result.data.locale) setLanguage(result.data.locale);
    state.status = null;
    state.rating = null;
    state.rated = false;
    clearMessages();
    await fetchConversation();
    state.loaded = true;
    connectEvents();
    return true;
  }

  /** Loads the history. Returns "ok", "gone" (token no longer valid) or "error". */
  async function fetchConversation() {
    const result = await request('GET', conversationPath(''), undefined, true);
    if (result.status === 401 || result.status === 403 || result.status === 404) return 'gone';
    if (!result.ok || !result.data) return 'error';
    const conversation = result.data;
    clearMessages();
    removeTyping();
    for (const message of conversation.messages || []) {
      addMessage(message.role, message.text, message.at, { history: true, force: true });
    }
    if (conversation.language) {
      setLanguage(conversation.language, conversation.dir);
      if (conversation.ui) setLabels(conversation.ui, normaliseLanguage(conversation.language));
      else loadLabels(conversation.language);
    }
    state.rating = conversation.rating === undefined ? null : conversation.rating;
    state.status = conversation.status || null;
    state.loaded = true;
    renderControls();
    if (!(conversation.messages || []).length) showEmptyState();
    scrollToEnd(true);
    return 'ok';
  }

  function forgetConversation() {
    closeEvents();
    state.conversation = null;
    state.loaded = false;
    state.status = null;
    state.rating = null;
    state.rated = false;
    store(null);
  }

  /** Makes sure there is a conversation: the stored one, or (when `create`) a new one. */
  function ensureConversation(create = true) {
    if (state.conversation && state.loaded) return Promise.resolve(true);
    if (state.opening) return state.opening;
    state.opening = (async () => {
      try {
        if (!state.conversation) state.conversation = readStored();
        if (state.conversation) {
          const outcome = await fetchConversation();
          if (outcome === 'ok') {
            connectEvents();
            return true;
          }
          if (outcome === 'gone') forgetConversation();
          else {
            if (create) showNotice(state.ui.error, 'error');
            return false;
          }
        }
        return create ? await createConversation() : false;
      } finally {
        state.opening = null;
      }
    })();
    return state.opening;
  }

  /* ---------- Live events ---------- */

  function parse(value) {
    try {
      return JSON.parse(value);
    } catch (_) {
      return null;
    }
  }

  function closeEvents() {
    clearTimeout(state.eventsTimer);
    if (state.events) state.events.close();
    state.events = null;
  }

  function connectEvents() {
    closeEvents();
    if (!state.conversation || typeof window.EventSource !== 'function') return;
    const conversation = state.conversation;
    const url = BASE + conversationPath('/events') + '?token=' + encodeURIComponent(conversation.token);
    const source = new window.EventSource(url);
    state.events = source;

    source.addEventListener('open', () => { state.eventsRetry = 0; });
    source.addEventListener('token', (event) => {
      const payload = parse(event.data);
      if (payload && typeof payload.text === 'string') streamToken(payload.text);
    });
    source.addEventListener('reset', () => resetTyping());
    source.addEventListener('message', (event) => {
      const payload = parse(event.data);
      if (payload && typeof payload.text === 'string') onPushedMessage(payload);
    });
    source.addEventListener('status', (event) => {
      const payload = parse(event.data);
      if (payload && payload.status && !state.busy) setStatus(payload.status);
      else if (payload && payload.status) state.pendingStatus = payload.status;
    });
    source.addEventListener('error', () => {
      if (source.readyState !== window.EventSource.CLOSED || state.events !== source) return;
      // The browser gave up (server restart, expired token): try again later, slower each time.
      state.events = null;
      const delay = Math.min(60000, 2000 * 2 ** state.eventsRetry);
      state.eventsRetry += 1;
      if (state.eventsRetry > 8) return;
      state.eventsTimer = setTimeout(() => {
        if (state.conversation === conversation) connectEvents();
      }, delay);
    });
  }

  function isRecentReply(text) {
    return state.lastReply.text === String(text).trim() && Date.now() - state.lastReply.at < 10000;
  }

  function onPushedMessage(message) {
    const role = message.role || 'agent';
    if (role === 'customer') return;
    if (role === 'agent' && state.busy) {
      // Probably this turn's own reply: decide once the turn answers.
      state.heldMessages.push(message);
      return;
    }
    if (role === 'agent' && isRecentReply(message.text)) return;
    if (state.typing && role !== 'system') finishTyping(role, message.text, message.at);
    else addMessage(role, message.text, message.at);
  }

  /* ---------- Sending ---------- */

  async function postMessage(text) {
    return request('POST', conversationPath('/messages'), { text }, true);
  }

  async function send(rawText) {
    const text = String(rawText || '').trim();
    if (!text || state.busy) return;
    if (state.waitUntil && Date.now() < state.waitUntil) {
      showNotice(state.ui.wait, 'wait');
      return;
    }
    state.busy = true;
    state.heldMessages = [];
    clearNotice();
    renderControls();
    updateSendState();
    const fromInput = input.value.trim() === text;
    if (fromInput) {
      input.value = '';
      autoGrow();
    }
    const bubble = addMessage('customer', text, new Date().toISOString(), { force: true });
    ensureTyping();

    let result = null;
    try {
      if (await ensureConversation()) {
        // Loading the history redraws the list: put this message (and the typing bubble) back.
        if (bubble && !bubble.isConnected) log.insertBefore(bubble, controls);
        ensureTyping();
        result = await postMessage(text);
        if (result.status === 401 || result.status === 403 || result.status === 404) {
          // The conversation expired: start a fresh one and send the message there.
          forgetConversation();
          if (await createConversation()) {
            log.insertBefore(bubble, controls);
            ensureTyping();
            result = await postMessage(text);
          }
        }
      }
    } finally {
      state.busy = false;
    }

    if (result && result.ok && result.data) {
      applyTurn(result.data);
    } else {
      removeTyping();
      if (bubble) bubble.remove();
      if (fromInput && !input.value) {
        input.value = text;
        autoGrow();
      }
      if (!result) {
        // The conversation could not be opened; the notice already says why.
      } else if (result.status === 429) {
        waitFor(result.retryAfter);
      } else {
        showNotice((result.data && result.data.error) || state.ui.error, 'error');
      }
      releaseHeld('');
      if (state.pendingStatus) state.status = state.pendingStatus;
      state.pendingStatus = null;
      renderControls();
    }
    updateSendState();
    if (state.open && document.activeElement !== input && !panel.contains(document.activeElement)) input.focus();
  }

  function releaseHeld(reply) {
    const held = state.heldMessages;
    state.heldMessages = [];
    for (const message of held) {
      if (reply && String(message.text).trim() === reply.trim()) continue;
      addMessage(message.role || 'agent', message.text, message.at);
    }
  }

  function applyTurn(turn) {
    if (turn.ui) setLabels(turn.ui, normaliseLanguage(turn.language || ''));
    if (turn.language || turn.dir) setLanguage(turn.language, turn.dir);
    const reply = typeof turn.reply === 'string' ? turn.reply : '';
    if (reply) {
      finishTyping('agent', reply, new Date().toISOString());
      state.lastReply = { text: reply.trim(), at: Date.now() };
    } else {
      removeTyping();
    }
    releaseHeld(reply);
    state.pendingStatus = null;
    if (turn.status === 'resolved' && state.status !== 'resolved') {
      state.rated = false;
      state.rating = null;
    }
    state.status = turn.status || state.status;
    state.choices = Array.isArray(turn.choices) ? turn.choices.filter((c) => typeof c === 'string') : [];
    renderControls();
  }

  /* ---------- Open / close ---------- */

  function openPanel() {
    if (state.open) return;
    state.open = true;
    panel.hidden = false;
    root.classList.add('hw-open');
    launcher.setAttribute('aria-expanded', 'true');
    state.unread = 0;
    badge.hidden = true;
    applyLabels();
    if (!state.loaded) showEmptyState();
    input.focus({ preventScroll: true });
    scrollToEnd(true);
    ensureConversation().then(() => scrollToEnd(true));
  }

  function closePanel(returnFocus) {
    if (!state.open) return;
    state.open = false;
    panel.hidden = true;
    root.classList.remove('hw-open');
    launcher.setAttribute('aria-expanded', 'false');
    applyLabels();
    if (returnFocus) launcher.focus();
  }

  function autoGrow() {
    input.style.height = 'auto';
    input.style.height = Math.min(input.scrollHeight, 140) + 'px';
  }

  /* ---------- Events ---------- */

  launcher.addEventListener('click', () => {
    if (state.open) closePanel(true);
    else openPanel();
  });
  closeButton.addEventListener('click', () => closePanel(true));
  root.addEventListener('keydown', (event) => {
    if (event.key === 'Escape' && state.open) {
      event.stopPropagation();
      closePanel(true);
    }
  });
  composer.addEventListener('submit', (event) => {
    event.preventDefault();
    send(input.value);
  });
  input.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing && event.keyCode !== 229) {
      event.preventDefault();
      send(input.value);
    }
  });
  input.addEventListener('input', autoGrow);

  /* ---------- Start ---------- */

  function mount() {
    const stylesheet = document.createElement('link');
    stylesheet.rel = 'stylesheet';
    stylesheet.href = BASE + '/static/widget.css';
    const reveal = () => { root.style.visibility = ''; };
    stylesheet.addEventListener('load', reveal);
    stylesheet.addEventListener('error', reveal);
    setTimeout(reveal, 3000);
    (document.head || document.documentElement).appendChild(stylesheet);
    document.body.appendChild(root);

    setLanguage(startLanguage);
    applyLabels();
    updateSendState();
    loadLabels(startLanguage);

    // A conversation from an earlier visit: load it quietly so replies from the team show up.
    if (readStored()) ensureConversation(false);
  }

  if (document.body) mount();
  else document.addEventListener('DOMContentLoaded', mount, { once: true });
})();
