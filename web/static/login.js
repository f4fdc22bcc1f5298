// Helloword — sign-in page: email and password, then back to the page that sent the user here.

import { api, ApiError, mountTopBar, showError, errorMessage } from './common.js';

const DEFAULT_NEXT = '/console';

/** Only paths on this site ("/console", "/admin?x=1"), never another host. */
export function safeNext(value) {
  if (!value || typeof value !== 'string') return DEFAULT_NEXT;
  if (!value.startsWith('/') || value.startsWith('//') || value.startsWith('/\\')) return DEFAULT_NEXT;
  if (/[\u0000-\u001f\u007f]/.test(value)) return DEFAULT_NEXT;
  try {
    const url = new URL(value, location.origin);
    if (url.origin !== location.origin) return DEFAULT_NEXT;
    if (url.pathname === '/login') return DEFAULT_NEXT;
    return url.pathname + url.search + url.hash;
  } catch {
    return DEFAULT_NEXT;
  }
}

const next = safeNext(new URLSearchParams(location.search).get('next'));

function showSignedIn(user) {
  const box = document.getElementById('signed-in');
  document.getElementById('signed-in-name').textContent = user.name || user.email;
  document.getElementById('continue-link').href = next;
  box.hidden = false;
}

function bindForm() {
  const form = document.getElementById('login-form');
  const email = document.getElementById('email');
  const password = document.getElementById('password');
  const submit = document.getElementById('login-submit');
  const error = document.getElementById('login-error');

  const clearInvalid = () => {
    email.removeAttribute('aria-invalid');
    password.removeAttribute('aria-invalid');
  };
  email.addEventListener('input', clearInvalid);
  password.addEventListener('input', clearInvalid);

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    showError(error, '');
    clearInvalid();
    if (!email.value.trim() || !password.value) {
      showError(error, 'Enter your email and password.');
      (email.value.trim() ? password : email).setAttribute('aria-invalid', 'true');
      (email.value.trim() ? password : email).focus();
      return;
    }
    submit.disabled = true;
    submit.textContent = 'Signing in…';
    try {
      await api('/api/auth/login', {
        method: 'POST',
        body: { email: email.value.trim(), password: password.value },
        redirectOn401: false,
      });
      location.assign(next);
    } catch (err) {
      const wrong = err instanceof ApiError && err.status === 401;
      showError(error, wrong ? (err.data && err.data.error) || 'Wrong email or password.' : errorMessage(err));
      if (wrong) {
        email.setAttribute('aria-invalid', 'true');
        password.setAttribute('aria-invalid', 'true');
        password.select();
        password.focus();
      }
      submit.disabled = false;
      submit.textContent = 'Sign in';
    }
  });
}

async function main() {
  bindForm();
  try {
    const me = await mountTopBar({ require: null });
    if (me && me.user) showSignedIn(me.user);
  } catch {
    // The form works without knowing who is signed in.
  }
}

main();
