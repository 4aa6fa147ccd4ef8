import uPlot from 'uplot';
import './style.css';
import type { InsightSnapshot } from '../insight-snapshot.service.js';
import type { SeriesPoint } from '../insight.repository.js';

const TOKEN_KEY = 'insight.token';
const RETRY_MS = 2000;
const numbers = new Intl.NumberFormat('en-US', { maximumFractionDigits: 1 });
const byId = (id: string): HTMLElement => document.getElementById(id)!;

let token = sessionStorage.getItem(TOKEN_KEY);
let latest: InsightSnapshot | undefined;
let streamAbort: AbortController | undefined;
const charts = new Map<string, uPlot>();

type Child = Node | string;
function el(tag: string, attrs: Record<string, string> = {}, ...children: Child[]): HTMLElement {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, value);
  node.append(...children);
  return node;
}

const small = new Intl.NumberFormat('en-US', { maximumSignificantDigits: 2 });
/** Thousands separators, one decimal; rates below 1 keep two significant digits (0.0017 /s). */
const num = (n: number, unit = ''): string =>
  `${(n !== 0 && Math.abs(n) < 1 ? small : numbers).format(n)}${unit ? ` ${unit}` : ''}`;

function ago(iso: string | null): HTMLElement {
  if (!iso) return el('span', { class: 'muted' }, 'never');
  const seconds = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
  const text =
    seconds < 60
      ? `${seconds} s ago`
      : seconds < 3600
        ? `${Math.floor(seconds / 60)} min ago`
        : seconds < 86400
          ? `${Math.floor(seconds / 3600)} h ago`
          : `${Math.floor(seconds / 86400)} d ago`;
  return el('time', { datetime: iso, title: new Date(iso).toLocaleString() }, text);
}

function table(headers: string[], rows: Child[][], numeric: number[] = []): HTMLElement {
  return el(
    'table',
    {},
    el('thead', {}, el('tr', {}, ...headers.map((h) => el('th', { scope: 'col' }, h)))),
    el(
      'tbody',
      {},
      ...rows.map((row) =>
        el(
          'tr',
          {},
          ...row.map((cell, i) => el('td', numeric.includes(i) ? { class: 'num' } : {}, cell)),
        ),
      ),
    ),
  );
}

const empty = (text: string): HTMLElement => el('p', { class: 'empty' }, text);

function rolesOf(jwt: string): string[] {
  try {
    const part = jwt.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    const claims = JSON.parse(atob(part)) as { roles?: unknown };
    return Array.isArray(claims.roles) ? claims.roles.map(String) : [];
  } catch {
    return [];
  }
}

const authorized = (init: RequestInit = {}): RequestInit => ({
  ...init,
  headers: { Authorization: `Bearer ${token ?? ''}` },
});

function setConnection(state: 'live' | 'lost' | 'idle', text: string): void {
  const pill = byId('connection');
  pill.className = `pill ${state}`;
  pill.textContent = text;
}

function showLogin(message: string): void {
  streamAbort?.abort();
  byId('dashboard').hidden = true;
  byId('sign-out').hidden = token === null;
  byId('login').hidden = false;
  const note = byId('login-message');
  note.textContent = message;
  note.className = message ? 'message bad' : 'message';
  setConnection('idle', 'not connected');
}

function renderTiles(s: InsightSnapshot): void {
  const t = s.tiles;
  const reasons = Object.entries(t.rejected_by_reason).sort(([, a], [, b]) => b - a);
  const tile = (key: string, label: string, value: string, detail = '') =>
    el(
      'div',
      { class: 'tile', 'data-tile': key },
      el('div', { class: 'label' }, label),
      el('div', { class: 'value' }, value),
      el('div', { class: 'detail' }, detail),
    );
  byId('tiles').replaceChildren(
    tile(
      'accepted',
      'Accepted',
      num(t.accepted.total),
      `${num(t.accepted.updates)} updates · ${num(t.accepted.heartbeats)} heartbeats`,
    ),
    tile('accepted_per_second', 'Accepted now', num(t.accepted_per_second, '/s'), 'last 10 s'),
    tile(
      'rejected',
      'Rejected',
      num(t.rejected_total),
      reasons.map(([reason, n]) => `${reason} ${num(n)}`).join(' · ') || 'none yet',
    ),
    tile('replay_attempts', 'Replay attempts', num(t.replay_attempts)),
    tile('invalid_signatures', 'Invalid signatures', num(t.invalid_signatures)),
    tile('invalid_tokens', 'Invalid tokens', num(t.invalid_tokens)),
    tile('nonce_store_size', 'Nonce store', num(t.nonce_store_size, 'nonces')),
  );
}

function renderChart(
  id: string,
  series: { bin_seconds: number; points: SeriesPoint[] },
  spanSeconds: number,
): void {
  const now = Math.floor(Date.now() / 1000);
  const bin = series.bin_seconds;
  const start = Math.floor((now - spanSeconds) / bin) * bin;
  const byT = new Map(series.points.map((p) => [p.t, p]));
  const xs: number[] = [];
  const accepted: number[] = [];
  const rejected: number[] = [];
  for (let t = start; t <= now; t += bin) {
    xs.push(t);
    accepted.push((byT.get(t)?.accepted ?? 0) / bin);
    rejected.push((byT.get(t)?.rejected ?? 0) / bin);
  }
  const data: uPlot.AlignedData = [xs, accepted, rejected];
  const host = byId(id);
  const width = Math.max(260, host.clientWidth);
  const existing = charts.get(id);
  if (existing) {
    if (Math.abs(existing.width - width) > 4) existing.setSize({ width, height: 200 });
    existing.setData(data);
    return;
  }
  const axisColor = getComputedStyle(document.documentElement).getPropertyValue('--muted').trim();
  const axis = {
    stroke: axisColor,
    grid: { stroke: 'rgba(128,128,128,0.2)' },
    ticks: { stroke: 'rgba(128,128,128,0.3)' },
  };
  charts.set(
    id,
    new uPlot(
      {
        width,
        height: 200,
        series: [
          {},
          {
            label: 'accepted/s',
            stroke: '#2e86de',
            width: 2,
            value: (_u, v) => (v == null ? '–' : num(v, '/s')),
          },
          {
            label: 'rejected/s',
            stroke: '#e55039',
            dash: [6, 4],
            width: 2,
            value: (_u, v) => (v == null ? '–' : num(v, '/s')),
          },
        ],
        axes: [axis, { ...axis, values: (_u, ticks) => ticks.map((v) => num(v)) }],
      },
      data,
      host,
    ),
  );
}

function renderEvents(s: InsightSnapshot): void {
  const select = byId('reason-filter') as HTMLSelectElement;
  const reasons = [
    ...new Set([...Object.keys(s.tiles.rejected_by_reason), ...s.events.map((e) => e.reason)]),
  ].sort();
  const known = [...select.options].map((o) => o.value).filter(Boolean);
  if (known.join() !== reasons.join()) {
    const chosen = select.value;
    select.replaceChildren(
      el('option', { value: '' }, 'all reasons'),
      ...reasons.map((r) => el('option', { value: r }, r)),
    );
    select.value = reasons.includes(chosen) ? chosen : '';
  }
  const events = s.events.filter((e) => !select.value || e.reason === select.value);
  byId('events').replaceChildren(
    events.length === 0
      ? empty(
          s.events.length === 0
            ? 'No request has been rejected yet.'
            : 'No event with this reason among the latest 50.',
        )
      : table(
          ['time', 'module', 'reason', 'node', 'client', 'request'],
          events.map((e) => [
            ago(e.at),
            e.module ?? '–',
            el('span', { title: e.message }, e.reason),
            e.node,
            e.client_address ?? '–',
            `${e.method} ${e.path}`,
          ]),
        ),
  );
}

function renderModules(s: InsightSnapshot): void {
  byId('modules').replaceChildren(
    s.modules.length === 0
      ? empty('No module has sent a heartbeat yet: run `npm run mock`.')
      : table(
          ['module', 'state', 'last update', 'last heartbeat', 'node', 'updates', 'heartbeats'],
          s.modules.map((m) => [
            m.module,
            el('span', { class: `state-${m.state}` }, m.state),
            ago(m.last_update),
            ago(m.last_heartbeat),
            m.last_node ?? '–',
            num(m.updates),
            num(m.heartbeats),
          ]),
          [5, 6],
        ),
  );
}

function renderChain(s: InsightSnapshot): void {
  const c = s.chain;
  const item = (term: string, ...value: Child[]) => [el('dt', {}, term), el('dd', {}, ...value)];
  byId('chain').replaceChildren(
    el(
      'dl',
      { class: 'facts' },
      ...item('length', num(c.length, 'entries')),
      ...item(
        'head',
        el('span', { class: 'hash', title: c.head_hash }, `${c.head_hash.slice(0, 16)}…`),
      ),
      ...item(
        'latest checkpoint',
        ...(c.checkpoint
          ? [`at ${num(c.checkpoint.length, 'entries')}, `, ago(c.checkpoint.timestamp)]
          : [
              el(
                'span',
                { class: 'empty' },
                'none yet: one is signed on schedule, or POST /provenance/checkpoint',
              ),
            ]),
      ),
    ),
  );
}

function renderAutomation(s: InsightSnapshot): void {
  const a = s.automation;
  if (!a) {
    byId('jobs').replaceChildren(empty('Automation is not running on this replica.'));
    byId('runs').replaceChildren();
    return;
  }
  const admin = rolesOf(token ?? '').includes('admin');
  const trigger = (j: (typeof a.jobs)[number]) =>
    j.trigger.type === 'cron'
      ? `cron ${j.trigger.expression}`
      : `every ${num(j.trigger.value, 'min')}`;
  byId('jobs').replaceChildren(
    a.jobs.length === 0
      ? empty('No job is configured: add one to plugins/automation.json.')
      : table(
          ['job', 'trigger', 'next run', 'last outcome', ''],
          a.jobs.map((j) => {
            const button = el(
              'button',
              { type: 'button', 'data-job': j.name },
              'Run now',
            ) as HTMLButtonElement;
            button.disabled = !admin || j.running;
            button.title = admin ? `Run ${j.name} now` : 'Only an admin token can run jobs';
            button.addEventListener('click', () => void runNow(j.name));
            return [
              j.name,
              trigger(j),
              j.next_run
                ? el('span', {}, new Date(j.next_run).toLocaleTimeString())
                : el('span', { class: 'muted' }, 'not scheduled here'),
              j.last_run
                ? el(
                    'span',
                    { class: j.last_run.outcome === 'failed' ? 'bad' : '' },
                    j.last_run.outcome,
                  )
                : el('span', { class: 'muted' }, 'never run'),
              button,
            ];
          }),
        ),
  );
  byId('runs').replaceChildren(
    a.runs.length === 0
      ? empty('No run yet: jobs run on their schedule, or press "Run now".')
      : table(
          ['run', 'job', 'trigger', 'started', 'outcome', 'duration'],
          a.runs.map((r) => [
            `#${r.id}`,
            r.job,
            r.trigger,
            ago(r.started_at),
            el(
              'span',
              {
                class: r.outcome === 'failed' || r.outcome === 'timed_out' ? 'bad' : '',
                'data-run-outcome': r.outcome,
              },
              r.outcome,
            ),
            r.duration_ms === null ? '–' : num(r.duration_ms, 'ms'),
          ]),
          [5],
        ),
  );
}

function renderReplicas(s: InsightSnapshot): void {
  byId('replicas').replaceChildren(
    s.replicas.length === 0
      ? empty('No replica has reported in the last minute.')
      : table(
          ['node', 'seen', 'requests', 'rate', 'p50', 'p95', 'p99'],
          s.replicas.map((r) => [
            r.node + (r.node === s.node ? ' (this one)' : ''),
            ago(r.seen_at),
            num(r.figures.requests_total),
            num(r.figures.requests_per_second, '/s'),
            num(r.figures.latency_ms.p50, 'ms'),
            num(r.figures.latency_ms.p95, 'ms'),
            num(r.figures.latency_ms.p99, 'ms'),
          ]),
          [2, 3, 4, 5, 6],
        ),
  );
}

function render(s: InsightSnapshot): void {
  if (!latest) performance.mark('insight-first-render'); // what the browser test reports
  latest = s;
  byId('login').hidden = true;
  byId('dashboard').hidden = false;
  byId('sign-out').hidden = false;
  renderTiles(s);
  renderChart('chart-15m', s.series.last_15_minutes, 15 * 60);
  renderChart('chart-24h', s.series.last_24_hours, 24 * 3600);
  renderEvents(s);
  renderModules(s);
  renderChain(s);
  renderAutomation(s);
  renderReplicas(s);
}

/** Reads `text/event-stream` from a streamed fetch, which (unlike EventSource) sends the header. */
async function stream(): Promise<void> {
  streamAbort?.abort();
  const abort = new AbortController();
  streamAbort = abort;
  while (!abort.signal.aborted) {
    try {
      const response = await fetch('/insight/api/stream', {
        ...authorized(),
        signal: abort.signal,
      });
      if (response.status === 401)
        return showLogin('This token was refused (expired or not signed by this bridge).');
      if (response.status === 403)
        return showLogin('This token cannot open InsightFlow: it needs the admin or auditor role.');
      if (!response.ok || !response.body) throw new Error(`HTTP ${response.status}`);
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const message = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const data = message.split('\n').find((line) => line.startsWith('data: '));
          if (message.startsWith('event: snapshot') && data) {
            setConnection('live', 'live');
            render(JSON.parse(data.slice(6)) as InsightSnapshot);
          } else if (message.startsWith('event: unavailable')) {
            setConnection('lost', 'database unavailable, retrying…');
          }
        }
      }
      throw new Error('stream ended');
    } catch {
      if (abort.signal.aborted) return;
      setConnection('lost', 'connection lost, retrying…');
      await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
    }
  }
}

async function runNow(job: string): Promise<void> {
  const note = byId('run-message');
  const response = await fetch(
    `/automation/jobs/${encodeURIComponent(job)}/run`,
    authorized({ method: 'POST' }),
  );
  const body = (await response.json()) as { run_id?: number; message?: string };
  note.textContent = response.ok
    ? `Run #${body.run_id} of ${job} started.`
    : `Could not run ${job}: ${body.message ?? response.status}`;
}

async function verify(): Promise<void> {
  const note = byId('verdict');
  note.textContent = 'Verifying…';
  const response = await fetch('/provenance/verify', authorized());
  const v = (await response.json()) as {
    valid?: boolean;
    length?: number;
    first_invalid_sequence?: number;
    reason?: string;
  };
  note.className = v.valid ? 'message' : 'message bad';
  note.textContent = !response.ok
    ? `Verification failed: HTTP ${response.status}`
    : v.valid
      ? `Chain valid: ${num(v.length ?? 0, 'entries')} verified at ${new Date().toLocaleTimeString()}.`
      : `Chain BROKEN at sequence ${v.first_invalid_sequence} (${v.reason}).`;
}

async function exportChain(): Promise<void> {
  const response = await fetch('/provenance/export', authorized());
  if (!response.ok)
    return void (byId('verdict').textContent = `Export failed: HTTP ${response.status}`);
  const url = URL.createObjectURL(await response.blob());
  const link = el('a', { href: url, download: `chain-export-${new Date().toISOString()}.ndjson` });
  link.click();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

function start(): void {
  const fragment = new URLSearchParams(location.hash.slice(1)).get('token');
  if (fragment) {
    token = fragment;
    sessionStorage.setItem(TOKEN_KEY, fragment);
    history.replaceState(null, '', location.pathname + location.search);
  }
  byId('login-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const input = byId('token-input') as HTMLInputElement;
    token = input.value.trim();
    input.value = '';
    sessionStorage.setItem(TOKEN_KEY, token);
    void stream();
  });
  byId('sign-out').addEventListener('click', () => {
    sessionStorage.removeItem(TOKEN_KEY);
    token = null;
    showLogin('');
  });
  byId('reason-filter').addEventListener('change', () => latest && renderEvents(latest));
  byId('verify').addEventListener('click', () => void verify());
  byId('export').addEventListener('click', () => void exportChain());
  if (token) void stream();
  else showLogin('');
}

start();
