'use strict';
// The dashboard: plain JS, no build step. The token comes from the URL fragment (#jwt=..., which the
// browser never sends to the server) or the sign-in field, and is kept in sessionStorage for this tab.
(function () {
  const $ = (id) => document.getElementById(id);
  const state = { token: null, user: null, admin: false, connections: new Map(), institutions: new Map(),
    ws: null, retryMs: 1000, lastBeat: 0, timers: [] };

  function esc(text) {
    return String(text == null ? '' : text).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));
  }
  function ago(iso) {
    if (!iso) return 'never';
    const s = Math.round((Date.now() - Date.parse(iso)) / 1000);
    if (s < 0) return 'in ' + human(-s);
    return human(s) + ' ago';
  }
  function human(s) {
    if (s < 60) return s + ' s';
    if (s < 3600) return Math.round(s / 60) + ' min';
    if (s < 86400) return Math.round(s / 3600) + ' h';
    return Math.round(s / 86400) + ' d';
  }
  function label(status) { return String(status || 'unknown').replace(/_/g, ' '); }
  function toast(text) {
    const t = $('toast'); t.textContent = text; t.classList.remove('hidden');
    clearTimeout(toast.timer); toast.timer = setTimeout(() => t.classList.add('hidden'), 6000);
  }

  async function api(method, path, body) {
    const res = await fetch(path, { method, headers: Object.assign({ 'Authorization': 'Bearer ' + state.token },
      body ? { 'Content-Type': 'application/json' } : {}), body: body ? JSON.stringify(body) : undefined });
    const json = await res.json().catch(() => ({}));
    if (res.status === 401) { signOut('Your token was refused: ' + ((json.error || {}).message || '')); throw new Error('unauthorized'); }
    if (!res.ok) throw new Error((json.error || {}).message || ('HTTP ' + res.status));
    return json;
  }

  // --- sign in -----------------------------------------------------------------------------------------
  function start() {
    const m = location.hash.match(/(?:^#|&)jwt=([^&]+)/);
    if (m) {
      sessionStorage.setItem('mingus.jwt', decodeURIComponent(m[1]));
      history.replaceState(null, '', location.pathname + location.search);
    }
    state.token = sessionStorage.getItem('mingus.jwt');
    if (!state.token) { showLogin(); return; }
    try {
      const claims = JSON.parse(atob(state.token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/')));
      state.user = claims.sub; state.admin = (claims.roles || []).includes('admin');
      $('who').textContent = (claims.name || claims.sub) + (state.admin ? ' · operator' : '');
    } catch (e) { signOut('That is not a JWT'); return; }
    $('login').classList.add('hidden'); $('app').classList.remove('hidden'); $('signout').classList.remove('hidden');
    $('scope').textContent = state.admin ? 'every user' : 'yours';
    if (state.admin) $('mail-panel').classList.remove('hidden');
    if (state.admin) $('reconcile-panel').classList.remove('hidden');
    if (state.admin) $('alerts-panel').classList.remove('hidden');
    connect();
    refreshSide();
    state.timers.push(setInterval(refreshSide, 10000));
    state.timers.push(setInterval(() => { renderConnections(); checkLive(); }, 5000));
  }
  function showLogin() { $('login').classList.remove('hidden'); $('app').classList.add('hidden'); }
  function signOut(reason) {
    sessionStorage.removeItem('mingus.jwt'); state.token = null;
    state.timers.forEach(clearInterval); state.timers = [];
    if (state.ws) { state.ws.onclose = null; state.ws.close(); }
    $('signout').classList.add('hidden'); $('who').textContent = ''; setLive(false);
    showLogin(); if (reason) $('login-error').textContent = reason;
  }
  $('signin').onclick = () => {
    const t = $('token').value.trim();
    if (!t) return;
    sessionStorage.setItem('mingus.jwt', t); $('login-error').textContent = ''; start();
  };
  $('signout').onclick = () => signOut();

  // --- the live feed -------------------------------------------------------------------------------------
  function connect() {
    const ws = new WebSocket((location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/api/reliability/feed');
    state.ws = ws;
    ws.onopen = () => ws.send(JSON.stringify({ type: 'auth', token: state.token }));
    ws.onmessage = (event) => {
      const msg = JSON.parse(event.data);
      state.lastBeat = Date.now(); setLive(true); state.retryMs = 1000;
      if (msg.type === 'snapshot') {
        state.connections.clear();
        (msg.connections || []).forEach((c) => state.connections.set(c.connection_id, c));
        state.institutions.clear();
        (msg.institutions || []).forEach((i) => state.institutions.set(i.institution_id, i));
        renderConnections(); renderInstitutions(); loadSyncs();
      } else if (msg.type === 'health') {
        const c = msg.connection; const before = state.connections.get(c.connection_id);
        if (c.removed) state.connections.delete(c.connection_id);
        else state.connections.set(c.connection_id, Object.assign({}, before || {}, c));
        if (!before || before.status !== c.status) {
          activity((c.institution_name || (before || {}).institution_name || c.connection_id) + ': ' +
            (before ? label(before.status) + ' → ' : '') + label(c.status), c.status);
        }
        renderConnections(c.connection_id);
        clearTimeout(state.syncTimer); state.syncTimer = setTimeout(loadSyncs, 1500);
      } else if (msg.type === 'institution') {
        const i = msg.institution; state.institutions.set(i.institution_id, Object.assign({}, state.institutions.get(i.institution_id) || {}, i));
        activity('Bank ' + (i.name || i.institution_name || i.institution_id) + ': ' + label(i.status || i.circuit), i.status);
        renderInstitutions();
      } else if (msg.type === 'notification') {
        activity('Notification: ' + msg.notification.title, 'info');
        loadNotifications();
      } else if (msg.type === 'unavailable') {
        // health tracking does not answer: what is shown is its last word; a new snapshot follows when it does
        activity(msg.message || 'Connection health is not available right now', 'error');
      }
    };
    ws.onclose = (event) => {
      setLive(false);
      if (event.code === 4401) { signOut('The feed refused the token: ' + event.reason); return; }
      setTimeout(connect, state.retryMs); state.retryMs = Math.min(30000, state.retryMs * 2);
    };
  }
  function setLive(on) { const l = $('live'); l.className = 'live ' + (on ? 'on' : 'off'); l.textContent = on ? '● live' : '● offline'; }
  function checkLive() { if (Date.now() - state.lastBeat > 40000) setLive(false); }
  function activity(text, status) {
    const ul = $('activity'); const empty = ul.querySelector('.empty'); if (empty) empty.remove();
    const li = document.createElement('li');
    li.innerHTML = '<span class="pill ' + esc(status) + '">' + esc(new Date().toLocaleTimeString()) + '</span> ' + esc(text);
    ul.prepend(li); while (ul.children.length > 60) ul.lastChild.remove();
  }

  // --- rendering -------------------------------------------------------------------------------------------
  function hint(c) {
    switch (c.status) {
      case 'requires_reauth': return 'The bank needs you to log in again: use Reconnect.';
      case 'maintenance': return 'The bank is in maintenance' + (c.maintenance_until ? ' until ' + new Date(c.maintenance_until).toLocaleTimeString() : '') + '; syncs resume by themselves.';
      case 'rate_limited': return 'Plaid asked us to slow down; the next sync is scheduled.';
      case 'degraded': return 'Recent syncs failed; retrying ' + (c.next_retry ? ago(c.next_retry) : 'soon') + '.';
      case 'error': return (c.last_error && (c.last_error.display_message || c.last_error.message || c.last_error.error_message)) || 'Syncing keeps failing.';
      case 'pending_expiration': return 'Access expires soon: reconnect to keep it.';
      case 'disconnected': return 'This connection was removed or revoked.';
      default: return '';
    }
  }
  function renderConnections(flashId) {
    const list = [...state.connections.values()].sort((a, b) => String(a.institution_name).localeCompare(String(b.institution_name)) || String(a.connection_id).localeCompare(String(b.connection_id)));
    let healthy = 0, degraded = 0, bad = 0;
    list.forEach((c) => {
      if (c.status === 'active') healthy++;
      else if (['degraded', 'rate_limited', 'maintenance', 'pending_expiration'].includes(c.status)) degraded++;
      else bad++;
    });
    $('n-total').textContent = list.length; $('n-healthy').textContent = healthy; $('n-degraded').textContent = degraded; $('n-error').textContent = bad;
    const box = $('connections');
    if (!list.length) { box.innerHTML = '<p class="empty">No connections yet.</p>'; return; }
    box.innerHTML = list.map((c) => {
      const mine = c.user_id === undefined || c.user_id === state.user;
      return '<div class="conn" data-connection-id="' + esc(c.connection_id) + '" data-status="' + esc(c.status) + '">' +
        '<div class="name"><span>' + esc(c.institution_name || c.institution_id || 'Bank') + '</span><span class="pill ' + esc(c.status) + '">' + esc(label(c.status)) + '</span></div>' +
        '<div class="meta">' + (state.admin && c.user_id ? esc(c.user_id) + ' · ' : '') + 'synced ' + esc(ago(c.last_successful_sync)) +
        (c.consecutive_failures ? ' · ' + esc(c.consecutive_failures) + (c.consecutive_failures === 1 ? ' failure' : ' failures') + ' in a row' : '') + (c.syncing ? ' · syncing…' : '') + '</div>' +
        (hint(c) ? '<div class="hint">' + esc(hint(c)) + '</div>' : '') +
        (mine ? '<div class="actions">' +
          '<button class="small" data-act="sync-now" data-id="' + esc(c.connection_id) + '">Sync now</button>' +
          '<button class="small" data-act="retry" data-id="' + esc(c.connection_id) + '">Retry</button>' +
          (c.requires_reauth || c.status === 'requires_reauth' || c.status === 'pending_expiration' ? '<button class="small" data-act="reconnect" data-id="' + esc(c.connection_id) + '">Reconnect</button>' : '') +
          '</div>' : '') +
        '</div>';
    }).join('');
    if (flashId) {
      const el = box.querySelector('[data-connection-id="' + CSS.escape(flashId) + '"]');
      if (el) { el.classList.add('flash'); setTimeout(() => el.classList.remove('flash'), 1200); }
    }
  }
  $('connections').addEventListener('click', async (event) => {
    const b = event.target.closest('button[data-act]'); if (!b) return;
    b.disabled = true;
    try {
      const r = await api('POST', '/api/reliability/connections/' + encodeURIComponent(b.dataset.id) + '/' + b.dataset.act);
      if (b.dataset.act === 'reconnect') toast('Link token for update mode: ' + r.link_token);
      else if (b.dataset.act === 'retry') toast('Retry queued (retry #' + r.retry_count + ')');
      else toast('Sync queued');
      setTimeout(loadSyncs, 3000);
    } catch (e) { toast(e.message); } finally { b.disabled = false; }
  });

  function renderInstitutions() {
    const rows = [...state.institutions.values()];
    $('institutions').innerHTML = rows.length ? rows.map((i) => {
      const status = String(i.status || i.health || 'healthy').toLowerCase(); const circuit = String(i.circuit || i.circuit_state || 'closed').toLowerCase();
      const rates = i.success_rates || {}; const hour = rates['1h'] || rates['5m'] || {};
      const n = hour.rate != null ? hour.rate + ' % of ' + hour.total : (typeof i.connections === 'number' ? i.connections + ' connections' : '–');
      return '<tr data-institution-id="' + esc(i.institution_id) + '"><td>' + esc(i.name || i.institution_name || i.institution_id) + '</td>' +
        '<td><span class="pill ' + esc(status) + '">' + esc(label(status)) + '</span></td>' +
        '<td><span class="pill ' + esc(circuit) + '" title="' + esc(i.circuit_reason || '') + '">' + esc(label(circuit)) + '</span></td><td>' + esc(n) + '</td>' +
        '<td class="maintenance">' + esc(maintenanceText(i)) + '</td></tr>';
    }).join('') : '<tr><td colspan="5" class="empty">No banks yet.</td></tr>';
  }
  // Plaid's window (active or scheduled) and the one learned from the bank's history
  function maintenanceText(i) {
    const t = (at) => at ? new Date(at).toLocaleString([], { weekday: 'short', hour: '2-digit', minute: '2-digit' }) : '?';
    const parts = [];
    const m = i.maintenance || {};
    if (m.state === 'active') parts.push('Now, until ' + t(m.until) + (m.until_source === 'predicted' ? ' (learned)' : ''));
    else if (m.state === 'scheduled') parts.push('Scheduled ' + t(m.from) + ' – ' + t(m.until));
    const p = i.predicted_maintenance;
    if (p) parts.push('Predicted ' + t(p.from) + ' – ' + t(p.until) + ' (every ' + p.period + ', ' + p.occurrences + ' seen)');
    return parts.length ? parts.join(' · ') : '–';
  }

  async function refreshSide() {
    loadNotifications(); loadRateLimits(); loadSyncs(); loadInstitutions();
    if (state.admin) { loadMail(); loadReconciliations(); loadAlerts(); }
  }
  async function loadInstitutions() {
    try {
      const r = await api('GET', '/api/reliability/institutions');
      (r.institutions || []).forEach((i) => state.institutions.set(i.institution_id, i));
      renderInstitutions();
    } catch (e) { /* shown on the next refresh */ }
  }
  async function loadNotifications() {
    try {
      const r = await api('GET', '/api/reliability/notifications?limit=30');
      $('unread').textContent = r.unread_count;
      const ul = $('notifications');
      ul.innerHTML = r.notifications.length ? r.notifications.map((n) =>
        '<li class="' + (n.read ? '' : 'unread') + '" data-id="' + esc(n.id) + '"><span class="pill ' + esc(n.priority) + '">' + esc(n.priority) + '</span> ' +
        esc(n.title) + '<div>' + esc(n.message) + '</div><div class="t">' + esc(ago(n.created_at)) + (n.read ? '' : ' · click to mark read') + '</div></li>').join('')
        : '<li class="empty">Nothing yet.</li>';
    } catch (e) { /* shown on the next refresh */ }
  }
  $('notifications').addEventListener('click', async (event) => {
    const li = event.target.closest('li.unread'); if (!li) return;
    try { await api('POST', '/api/reliability/notifications/' + encodeURIComponent(li.dataset.id) + '/read'); loadNotifications(); } catch (e) { toast(e.message); }
  });
  async function loadRateLimits() {
    try {
      const r = await api('GET', '/api/reliability/rate-limits');
      const endpoints = (r.rate_limits || {}).endpoints || {};
      const bars = Object.keys(endpoints).sort().map((name) => {
        const e = endpoints[name]; const w = (e.windows || []).find((x) => x.scope === 'client' && x.window === 'minute') || (e.windows || [])[0];
        if (!w) return '';
        const cap = w.effective || w.configured || 1; const pct = Math.min(100, Math.round(100 * (w.used || 0) / cap));
        const cooling = e.cooling_until && Date.parse(e.cooling_until) > Date.now();
        return '<div class="bar"><div class="label"><span>' + esc(name) + (cooling ? ' <span class="pill rate_limited">cooling down</span>' : '') + '</span><span>' + esc(w.used || 0) + ' / ' + esc(cap) +
          (e.rate_limited ? ' · 429s: ' + esc(e.rate_limited) : '') + '</span></div><div class="track"><div class="fill ' + (pct >= 100 ? 'full' : pct >= 75 ? 'hot' : '') + '" style="width:' + pct + '%"></div></div></div>';
      }).join('');
      $('ratelimits').innerHTML = bars || '<p class="empty">No budgets configured.</p>';
    } catch (e) { $('ratelimits').innerHTML = '<p class="empty">' + esc(e.message) + '</p>'; }
  }
  async function loadSyncs() {
    const mine = [...state.connections.values()].filter((c) => state.admin || c.user_id === undefined || c.user_id === state.user).slice(0, 12);
    const rows = [];
    await Promise.all(mine.map(async (c) => {
      try {
        const base = state.admin ? '/api/admin/connections/' : '/api/reliability/connections/';
        const r = await api('GET', base + encodeURIComponent(c.connection_id) + '/sync-status');
        (r.sync_logs || []).slice(0, 5).forEach((l) => rows.push(Object.assign({ bank: r.institution_name, who: state.admin ? c.user_id : '' }, l)));
      } catch (e) { /* a removed connection */ }
    }));
    rows.sort((a, b) => String(b.started_at).localeCompare(String(a.started_at)));
    $('syncs').innerHTML = rows.length ? rows.slice(0, 15).map((l) =>
      '<tr><td>' + esc(ago(l.started_at)) + '</td><td>' + esc(l.bank) + (l.who ? ' <span class="sub">' + esc(l.who) + '</span>' : '') + '</td><td>' + esc(l.trigger) + '</td><td><span class="pill ' + esc(l.status) + '">' + esc(label(l.status)) + '</span></td>' +
      '<td>+' + esc(l.added || 0) + ' ~' + esc(l.modified || 0) + ' −' + esc(l.removed || 0) + '</td><td>' + esc(l.duration_ms != null ? l.duration_ms + ' ms' : '') + '</td></tr>').join('')
      : '<tr><td colspan="6" class="empty">No syncs yet.</td></tr>';
  }
  async function loadReconciliations() {
    try {
      const r = await api('GET', '/api/admin/reconciliations?limit=10');
      const t = r.totals || {};
      $('reconcile-totals').textContent = (t.runs || 0) + ' runs: ' + (t.clean || 0) + ' clean, ' + (t.repaired || 0) + ' repaired, ' +
        (t.deferred || 0) + ' deferred, ' + (t.failed || 0) + ' failed · drift ' + (t.missing || 0) + ' missing, ' + (t.extra || 0) + ' extra, ' +
        (t.changed || 0) + ' changed, ' + (t.balances_changed || 0) + ' balances · ' + (t.plaid_calls || 0) + ' Plaid calls';
      $('reconciliations').innerHTML = (r.reconciliations || []).length ? r.reconciliations.map((x) =>
        '<tr><td>' + esc(ago(x.finished_at)) + '</td><td>' + esc(x.connection_id) + '</td><td>' + esc(x.trigger) + '</td><td><span class="pill ' + esc(x.status) + '">' + esc(x.status) + '</span></td>' +
        '<td>' + esc((x.missing || 0) + (x.extra || 0) + (x.changed || 0) + (x.balances_changed || 0)) + '</td><td>' + esc(x.plaid_calls) + '</td></tr>').join('')
        : '<tr><td colspan="6" class="empty">No reconciliation yet.</td></tr>';
    } catch (e) { $('reconciliations').innerHTML = '<tr><td colspan="6" class="empty">' + esc(e.message) + '</td></tr>'; }
  }
  async function loadAlerts() {
    try {
      const r = await api('GET', '/api/admin/alerts?limit=10');
      $('alerts').innerHTML = (r.alerts || []).length ? r.alerts.map((a) =>
        '<tr><td>' + esc(ago(a.created_at)) + '</td><td><span class="pill ' + (a.severity === 'critical' ? 'open' : 'half_open') + '">' + esc(label(a.kind)) + '</span></td>' +
        '<td>' + esc(a.title) + '<div class="sub">' + esc(a.message) + '</div></td>' +
        '<td>' + esc((a.deliveries || []).map((d) => d.channel + ' ' + d.status).join(', ') || 'listed only') + '</td></tr>').join('')
        : '<tr><td colspan="4" class="empty">No operator alert yet.</td></tr>';
    } catch (e) { $('alerts').innerHTML = '<tr><td colspan="4" class="empty">' + esc(e.message) + '</td></tr>'; }
  }
  async function loadMail() {
    try {
      const r = await api('GET', '/api/admin/mail?limit=20');
      $('mail').innerHTML = r.messages.length ? r.messages.map((m) => '<tr><td>' + esc(ago(m.received_at)) + '</td><td>' + esc([].concat(m.to || []).join(', ')) + '</td><td>' + esc(m.subject) + '</td></tr>').join('')
        : '<tr><td colspan="3" class="empty">No mail caught yet.</td></tr>';
    } catch (e) { $('mail').innerHTML = '<tr><td colspan="3" class="empty">' + esc(e.message) + '</td></tr>'; }
  }

  start();
})();
