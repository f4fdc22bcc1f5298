// Helloword — demo shop page: who is signed in, and the demo customers to play in the chat.

import { api, mountTopBar, h, clear, $, showError, errorMessage, languageName } from './common.js';

async function copy(text, button) {
  let done = false;
  try {
    if (navigator.clipboard && window.isSecureContext) {
      await navigator.clipboard.writeText(text);
      done = true;
    }
  } catch {
    done = false;
  }
  if (!done) {
    // Older browsers and plain-HTTP hosts: copy through a hidden field.
    const field = h('textarea', { value: text, attrs: { readonly: true, 'aria-hidden': 'true' }, className: 'sr-only' });
    document.body.append(field);
    field.select();
    try {
      done = document.execCommand('copy');
    } catch {
      done = false;
    }
    field.remove();
  }
  const label = button.textContent;
  button.textContent = done ? 'Copied' : 'Select it';
  setTimeout(() => { button.textContent = label; }, 1500);
}

function copyable(value, what) {
  if (!value) return h('span', { className: 'muted', text: '—' });
  return [
    h('code', { text: value, title: value }),
    h('button', {
      type: 'button',
      className: 'btn btn-ghost copy-btn',
      text: 'Copy',
      attrs: { 'aria-label': 'Copy ' + what },
      on: { click: (event) => copy(String(value), event.currentTarget) },
    }),
  ];
}

function customerCard(customer) {
  return h('li', { className: 'card customer' },
    h('div', { className: 'customer-head' },
      h('h3', { text: customer.name || 'Customer' }),
      customer.language
        ? h('span', { className: 'badge badge-accent', text: languageName(customer.language), title: String(customer.language) })
        : null),
    customer.situation
      ? h('p', { className: 'situation' }, 'Their situation: ', h('q', { text: customer.situation }))
      : null,
    h('dl', {},
      h('dt', { text: 'Email' }), h('dd', {}, copyable(customer.email, 'email of ' + (customer.name || 'customer'))),
      h('dt', { text: 'Order' }), h('dd', {}, copyable(customer.order_id, 'order number of ' + (customer.name || 'customer')),
        customer.status ? h('span', { className: 'badge', text: String(customer.status).replace(/_/g, ' ') }) : null)));
}

async function loadCustomers() {
  const list = $('#demo-customers');
  try {
    const customers = await api('/api/demo/customers', { redirectOn401: false });
    clear(list);
    if (!Array.isArray(customers) || !customers.length) {
      list.append(h('li', { className: 'muted', text: 'No demo customers yet: load the demo shop data first.' }));
      return;
    }
    for (const customer of customers) list.append(customerCard(customer));
  } catch (error) {
    clear(list);
    if (error && error.status === 404) {
      // Listed only when the server runs the demo shop (make run, or helloword serve --demo).
      list.append(h('li', { className: 'muted', text: 'Demo customers are listed when the server runs the demo shop (make run, or helloword serve --demo).' }));
      return;
    }
    showError($('#customers-error'), 'Could not load the demo customers: ' + errorMessage(error));
  }
}

mountTopBar({ require: null }).catch(() => {});
loadCustomers();
