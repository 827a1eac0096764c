// gantry dashboard. The server renders every page and every live fragment; this script only
// (1) swaps fragments the server pushes over server-sent events, (2) sends the forms marked
// `data-api` to the REST API with the session's CSRF token, (3) shows job logs: a virtual
// list (only the rows on screen exist), sections that fold, search, line anchors and
// auto-follow, and (4) switches the theme. It decides nothing about pipelines.

const csrf = () => document.querySelector('meta[name="csrf-token"]')?.content ?? '';

function flash(text, bad = false) {
  const el = document.getElementById('flash');
  if (!el) return;
  el.textContent = text;
  el.classList.toggle('bad', bad);
  clearTimeout(flash.timer);
  flash.timer = setTimeout(() => { el.textContent = ''; }, bad ? 8000 : 3000);
}

// ---- theme -------------------------------------------------------------------------------
function applyTheme() {
  const t = localStorage.getItem('gantry-theme');
  if (t) document.documentElement.dataset.theme = t;
  else delete document.documentElement.dataset.theme;
}
applyTheme();
document.addEventListener('click', (e) => {
  if (!e.target.closest('[data-theme-toggle]')) return;
  const dark = document.documentElement.dataset.theme === 'dark' ||
    (!document.documentElement.dataset.theme && matchMedia('(prefers-color-scheme: dark)').matches);
  localStorage.setItem('gantry-theme', dark ? 'light' : 'dark');
  applyTheme();
});

// ---- forms that call the API --------------------------------------------------------------
function formBody(form) {
  const body = {};
  for (const el of form.elements) {
    if (!el.name || el.disabled) continue;
    if (el.type === 'checkbox') body[el.name] = el.checked;
    else if (el.dataset.type === 'number') body[el.name] = Number(el.value);
    else body[el.name] = el.value;
  }
  const rows = [...form.querySelectorAll('.var-row')]
    .map((r) => ({ key: r.querySelector('[data-var=key]').value.trim(), value: r.querySelector('[data-var=value]').value }))
    .filter((v) => v.key !== '');
  if (form.dataset.vars && rows.length) body[form.dataset.vars] = rows;
  return body;
}

document.addEventListener('submit', async (e) => {
  const form = e.target.closest('form[data-api]');
  if (!form) return;
  e.preventDefault();
  if (form.dataset.confirm && !confirm(form.dataset.confirm)) return;
  const [method, url] = form.dataset.api.split(' ');
  const button = form.querySelector('button[type=submit]');
  if (button) button.disabled = true;
  try {
    const res = await fetch(url, {
      method,
      headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrf() },
      body: method === 'DELETE' ? undefined : JSON.stringify(formBody(form)),
      credentials: 'same-origin',
    });
    const text = await res.text();
    let json = null;
    try { json = text ? JSON.parse(text) : null; } catch { json = null; }
    if (!res.ok) {
      const why = json && (json.message || json.error);
      flash(`${res.status}: ${typeof why === 'string' ? why : JSON.stringify(why ?? text)}`, true);
      return;
    }
    const then = form.dataset.then;
    if (then === 'reload') location.reload();
    else if (then === 'web_url' && json?.web_url) location.assign(json.web_url);
    else flash('Done');
  } catch (err) {
    flash(`The server could not be reached: ${err.message}`, true);
  } finally {
    if (button) button.disabled = false;
  }
});

document.addEventListener('click', (e) => {
  const add = e.target.closest('[data-add-var]');
  if (!add) return;
  const row = add.parentElement.querySelector('.var-row');
  const copy = row.cloneNode(true);
  copy.querySelectorAll('input').forEach((i) => { i.value = ''; });
  add.before(copy);
  copy.querySelector('input').focus();
});

// ---- live fragments ------------------------------------------------------------------------
// The server sends `fragment` events: {"id": element id, "html": its new content}. A fragment
// the user is typing in waits until they leave it.
function live(el) {
  const source = new EventSource(el.dataset.live);
  const pending = new Map();
  const swap = (id, html) => {
    const target = document.getElementById(id);
    if (!target) return;
    if (target.contains(document.activeElement) && document.activeElement.matches('input, select, textarea')) {
      pending.set(id, html);
      return;
    }
    const open = [...target.querySelectorAll('details[open]')].map((d) => d.id).filter(Boolean);
    target.innerHTML = html;
    open.forEach((id) => document.getElementById(id)?.setAttribute('open', ''));
  };
  el.addEventListener('focusout', () => setTimeout(() => {
    for (const [id, html] of pending) { pending.delete(id); swap(id, html); }
  }, 0));
  source.addEventListener('fragment', (e) => {
    const { id, html } = JSON.parse(e.data);
    swap(id, html);
  });
  source.addEventListener('gone', () => source.close());
}

// ---- job log -------------------------------------------------------------------------------
class LogView {
  constructor(el) {
    this.el = el;
    this.space = el.querySelector('.log-space');
    this.rows = el.querySelector('.log-rows');
    this.lh = parseFloat(getComputedStyle(el).getPropertyValue('--lh')) || 20;
    this.lines = [];      // {n, s, t, sec, head}
    this.sections = [];   // {name, header, parent, collapsed, seconds}
    this.stack = [];
    this.visible = [];    // indices into lines, in order
    this.query = '';
    this.matches = [];
    this.current = -1;
    this.anchor = this.hashLine();
    this.anchored = false; // the page opened at #L<n> jumps there once, when the line arrives
    this.follow = this.anchor === null;
    this.programmatic = false;
    this.frame = 0;
    this.bar = el.closest('.log-box').querySelector('.log-bar');
    this.followButton = this.bar.querySelector('[data-log-follow]');
    el.addEventListener('scroll', () => this.onScroll());
    el.addEventListener('click', (e) => this.onClick(e));
    window.addEventListener('resize', () => this.schedule());
    window.addEventListener('hashchange', () => { this.anchor = this.hashLine(); this.jumpToAnchor(); });
    this.followButton.addEventListener('click', () => this.setFollow(!this.follow, true));
    this.wireSearch();
    this.setFollow(this.follow, false);
    this.connect(el.dataset.stream);
  }

  hashLine() {
    const m = /^#L(\d+)$/.exec(location.hash);
    return m ? Number(m[1]) : null;
  }

  connect(url) {
    const source = new EventSource(url);
    source.addEventListener('lines', (e) => this.add(JSON.parse(e.data)));
    source.addEventListener('end', () => { source.close(); this.el.dataset.complete = 'true'; });
  }

  hidden(sec, memo) {
    // Whether a line whose innermost section is `sec` is folded away.
    for (let s = sec; s >= 0; s = this.sections[s].parent) {
      if (memo && memo[s] !== undefined) return memo[s];
      if (this.sections[s].collapsed) return true;
    }
    return false;
  }

  add(records) {
    for (const r of records) {
      if (r.n === undefined) { this.closeSections(r.se); continue; }
      const idx = this.lines.length;
      const line = { n: r.n, s: r.s, t: r.s.map((x) => x[1]).join(''), sec: this.stack.length ? this.stack[this.stack.length - 1] : -1, head: -1 };
      if (r.ss) {
        const sIdx = this.sections.length;
        this.sections.push({ name: r.ss.name, header: idx, parent: line.sec, collapsed: !!r.ss.collapsed, seconds: null });
        line.head = sIdx;
        this.stack.push(sIdx);
      }
      this.lines.push(line);
      if (!this.hidden(line.sec)) this.visible.push(idx);
      if (this.query && line.t.toLowerCase().includes(this.query)) this.matches.push(idx);
      if (r.se) this.closeSections(r.se);
    }
    if (this.query) this.showCount();
    this.space.style.height = `${this.visible.length * this.lh}px`;
    if (!this.anchored && this.anchor !== null && this.anchor <= this.lines.length) {
      this.anchored = true;
      this.jumpToAnchor();
    }
    this.schedule();
  }

  closeSections(ends) {
    for (const [name, seconds] of ends || []) {
      for (let k = this.stack.length - 1; k >= 0; k--) {
        const s = this.sections[this.stack[k]];
        if (s.name === name) { s.seconds = seconds; this.stack.length = k; break; }
      }
    }
  }

  rebuild() {
    const memo = new Array(this.sections.length);
    this.sections.forEach((s, i) => { memo[i] = s.collapsed || (s.parent >= 0 && memo[s.parent]); });
    this.visible = [];
    for (let i = 0; i < this.lines.length; i++) {
      const sec = this.lines[i].sec;
      if (sec < 0 || !memo[sec]) this.visible.push(i);
    }
    this.space.style.height = `${this.visible.length * this.lh}px`;
    this.schedule();
  }

  toggle(sIdx, open) {
    const s = this.sections[sIdx];
    s.collapsed = open === undefined ? !s.collapsed : !open;
    // The rows are drawn again: the keyboard stays on this section's button.
    this.refocus = sIdx;
    this.rebuild();
  }

  schedule() {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => { this.frame = 0; this.render(); });
  }

  render() {
    if (this.follow) this.scrollTo(this.el.scrollHeight);
    const top = this.el.scrollTop;
    const height = this.el.clientHeight;
    const first = Math.max(0, Math.floor(top / this.lh) - 30);
    const last = Math.min(this.visible.length, Math.ceil((top + height) / this.lh) + 30);
    this.rows.style.transform = `translateY(${first * this.lh}px)`;
    const out = [];
    for (let v = first; v < last; v++) out.push(this.row(this.visible[v]));
    this.rows.replaceChildren(...out);
    if (this.refocus !== undefined) {
      this.rows.querySelector(`.fold[data-section="${this.refocus}"]`)?.focus();
      this.refocus = undefined;
    }
  }

  row(i) {
    const line = this.lines[i];
    const div = document.createElement('div');
    div.className = 'ln';
    div.id = `L${line.n}`;
    if (this.matches.length && this.matchSet?.has(i)) div.classList.add(i === this.matches[this.current] ? 'cur' : 'hit');
    if (this.anchor === line.n) div.classList.add('anchor');
    const num = document.createElement('a');
    num.className = 'num';
    num.href = `#L${line.n}`;
    num.textContent = line.n;
    div.append(num);
    if (line.head >= 0) {
      const s = this.sections[line.head];
      const b = document.createElement('button');
      b.type = 'button';
      b.className = 'fold';
      b.dataset.section = line.head;
      b.setAttribute('aria-expanded', String(!s.collapsed));
      b.setAttribute('aria-label', `${s.collapsed ? 'Expand' : 'Collapse'} section ${s.name}`);
      b.textContent = s.collapsed ? '▸' : '▾';
      div.append(b);
    } else {
      const pad = document.createElement('span');
      pad.className = 'nofold';
      div.append(pad);
    }
    const text = document.createElement('span');
    for (const [cls, t, fg, bg] of line.s) {
      const span = document.createElement('span');
      if (cls) span.className = cls;
      if (fg) span.style.color = fg;
      if (bg) span.style.background = bg;
      this.fill(span, t);
      text.append(span);
    }
    div.append(text);
    if (line.head >= 0 && this.sections[line.head].seconds !== null) {
      const d = document.createElement('span');
      d.className = 'sdur';
      const secs = this.sections[line.head].seconds;
      d.textContent = `${String(Math.floor(secs / 60)).padStart(2, '0')}:${String(secs % 60).padStart(2, '0')}`;
      div.append(d);
    }
    return div;
  }

  fill(span, t) {
    if (!this.query) { span.textContent = t; return; }
    const lower = t.toLowerCase();
    let at = 0;
    for (let k = lower.indexOf(this.query); k >= 0; k = lower.indexOf(this.query, at)) {
      span.append(t.slice(at, k));
      const mark = document.createElement('mark');
      mark.textContent = t.slice(k, k + this.query.length);
      span.append(mark);
      at = k + this.query.length;
    }
    span.append(t.slice(at));
  }

  scrollTo(y) {
    this.programmatic = true;
    this.el.scrollTop = y;
  }

  onScroll() {
    if (this.programmatic) { this.programmatic = false; this.schedule(); return; }
    const bottom = this.el.scrollTop + this.el.clientHeight >= this.el.scrollHeight - this.lh;
    if (this.follow !== bottom) this.setFollow(bottom, false);
    this.schedule();
  }

  setFollow(on, scroll) {
    this.follow = on;
    this.followButton.setAttribute('aria-pressed', String(on));
    if (on && scroll) this.schedule();
  }

  onClick(e) {
    const fold = e.target.closest('.fold');
    if (fold) { this.toggle(Number(fold.dataset.section)); return; }
    const num = e.target.closest('.num');
    if (num) { e.preventDefault(); history.replaceState(null, '', num.getAttribute('href')); this.anchor = this.hashLine(); this.schedule(); }
  }

  reveal(i) {
    // Unfolds the sections around line i and scrolls it into the middle.
    let opened = false;
    for (let s = this.lines[i].sec; s >= 0; s = this.sections[s].parent) {
      if (this.sections[s].collapsed) { this.sections[s].collapsed = false; opened = true; }
    }
    if (opened) this.rebuild();
    let lo = 0, hi = this.visible.length - 1;
    while (lo < hi) { const mid = (lo + hi) >> 1; if (this.visible[mid] < i) lo = mid + 1; else hi = mid; }
    this.setFollow(false, false);
    this.scrollTo(Math.max(0, lo * this.lh - this.el.clientHeight / 2));
    this.schedule();
  }

  jumpToAnchor() {
    if (this.anchor === null) return;
    const i = this.lines.findIndex((l) => l.n === this.anchor);
    if (i >= 0) { this.reveal(i); }
  }

  wireSearch() {
    const input = this.bar.querySelector('[data-log-query]');
    this.count = this.bar.querySelector('[data-log-count]');
    let timer = 0;
    input.addEventListener('input', () => { clearTimeout(timer); timer = setTimeout(() => this.search(input.value), 150); });
    this.bar.querySelector('[data-log-search]').addEventListener('submit', (e) => { e.preventDefault(); this.step(1); });
    input.addEventListener('keydown', (e) => { if (e.key === 'Enter') { e.preventDefault(); this.search(input.value, true); this.step(e.shiftKey ? -1 : 1); } });
    this.bar.querySelector('[data-log-next]').addEventListener('click', () => this.step(1));
    this.bar.querySelector('[data-log-prev]').addEventListener('click', () => this.step(-1));
  }

  search(q, keep = false) {
    q = q.toLowerCase();
    if (keep && q === this.query) return;
    this.query = q;
    this.matches = [];
    this.current = -1;
    if (q) this.lines.forEach((l, i) => { if (l.t.toLowerCase().includes(q)) this.matches.push(i); });
    this.matchSet = new Set(this.matches);
    this.showCount();
    if (this.matches.length) this.step(1);
    else this.schedule();
  }

  showCount() {
    this.matchSet = new Set(this.matches);
    this.count.textContent = this.query ? `${this.current + 1} of ${this.matches.length}` : '';
  }

  step(dir) {
    if (!this.matches.length) return;
    this.current = (this.current + dir + this.matches.length) % this.matches.length;
    this.showCount();
    this.reveal(this.matches[this.current]);
  }
}

function start() {
  document.querySelectorAll('[data-live]').forEach(live);
  const log = document.getElementById('log');
  if (log) window.gantryLog = new LogView(log);
}
if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
else start();
