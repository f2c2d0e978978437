import { useEffect, useState } from 'preact/hooks';
import { query, type Delivery, type DeliveryDetail, type Page } from './api';
import type { Nav } from './endpoints';
import { ErrorBox, formatTime, StatusBadge, useAction, useLoad, ViewHeading } from './ui';

const STATUSES = ['pending', 'succeeded', 'failed', 'skipped'];
const PAGE_SIZE = 20;
const REFRESH_MS = 1_000;

/** One page at a time through the API's cursor; the first page is read again while one of its deliveries is pending. */
export function DeliveryLog({ api, go, id, version, onSettled }: Nav & { id: string; version: number; onSettled: () => void }) {
  const [status, setStatus] = useState('');
  const [rows, setRows] = useState<Delivery[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const first = useLoad(async () => {
    const page = await api.get<Page<Delivery>>(`/${id}/deliveries${query({ status, limit: PAGE_SIZE })}`);
    setRows(page.data);
    setCursor(page.next_cursor);
    return page;
  }, [id, status, version]);
  const pending = rows.some((row) => row.status === 'pending');
  const [wasPending, setWasPending] = useState(false);
  useEffect(() => {
    if (wasPending && !pending) onSettled();
    setWasPending(pending);
  }, [pending]);
  useEffect(() => {
    if (!pending || first.loading) return;
    const timer = setTimeout(first.reload, REFRESH_MS);
    return () => clearTimeout(timer);
  }, [pending, first.loading, rows]);
  const more = useAction(async () => {
    const page = await api.get<Page<Delivery>>(`/${id}/deliveries${query({ status, limit: PAGE_SIZE, cursor: cursor ?? undefined })}`);
    setRows((previous) => [...previous, ...page.data]);
    setCursor(page.next_cursor);
  });
  return (
    <section class="panel" aria-labelledby="log-heading">
      <div class="toolbar">
        <h3 id="log-heading">Delivery log</h3>
        <div class="inline">
          <label for="log-status">Status</label>
          <select id="log-status" value={status} onChange={(e) => setStatus(e.currentTarget.value)}>
            <option value="">All</option>
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
          <button type="button" class="secondary" onClick={first.reload}>
            Refresh
          </button>
        </div>
      </div>
      <ErrorBox error={first.error || more.error} />
      {rows.length === 0 && !first.loading ? <p class="empty">No deliveries{status ? ` with status ${status}` : ''}.</p> : null}
      {rows.length > 0 && (
        <table class="list">
          <caption class="visually-hidden">Deliveries to this endpoint, newest first</caption>
          <thead>
            <tr>
              <th scope="col">Event</th>
              <th scope="col">Status</th>
              <th scope="col">Attempts</th>
              <th scope="col">Last response</th>
              <th scope="col">Created</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((d) => (
              <tr key={d.id} data-delivery={d.id}>
                <td>
                  <button type="button" class="link" onClick={() => go({ name: 'delivery', id, deliveryId: d.id })}>
                    {d.event_type}
                  </button>
                  <div class="muted small">{d.id}</div>
                </td>
                <td>
                  <StatusBadge status={d.status} />
                </td>
                <td>{d.attempt_count}</td>
                <td>{d.last_status_code ?? (d.last_error ? 'error' : '—')}</td>
                <td>{formatTime(d.created_at)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {cursor ? (
        <button type="button" class="secondary" disabled={more.busy} onClick={() => more.run()}>
          Load older deliveries
        </button>
      ) : null}
    </section>
  );
}

export function DeliveryView({ api, go, id, deliveryId }: Nav & { id: string; deliveryId: string }) {
  const delivery = useLoad(() => api.get<DeliveryDetail>(`/${id}/deliveries/${deliveryId}`), [id, deliveryId]);
  const [notice, setNotice] = useState('');
  const retry = useAction(async () => {
    await api.post(`/${id}/deliveries/${deliveryId}/retry`);
    setNotice('Queued for another attempt.');
    delivery.reload();
  });
  const d = delivery.data;
  useEffect(() => {
    if (d?.status !== 'pending' || delivery.loading) return;
    const timer = setTimeout(delivery.reload, REFRESH_MS);
    return () => clearTimeout(timer);
  }, [d, delivery.loading]);
  return (
    <section>
      <button type="button" class="link back" onClick={() => go({ name: 'endpoint', id })}>
        ← Back to the endpoint
      </button>
      <ViewHeading>Delivery</ViewHeading>
      <ErrorBox error={delivery.error} />
      {d ? (
        <>
          <dl class="facts">
            <dt>Event type</dt>
            <dd>
              <code>{d.event_type}</code>
            </dd>
            <dt>Status</dt>
            <dd>
              <StatusBadge status={d.status} />
            </dd>
            <dt>Delivery</dt>
            <dd>
              <code>{d.id}</code>
            </dd>
            <dt>Event</dt>
            <dd>
              <code>{d.event_id}</code>
            </dd>
            <dt>Created</dt>
            <dd>{formatTime(d.created_at)}</dd>
            {d.next_attempt_at && d.status === 'pending' ? (
              <>
                <dt>Next attempt</dt>
                <dd>{formatTime(d.next_attempt_at)}</dd>
              </>
            ) : null}
          </dl>
          <div class="actions">
            <button type="button" class="primary" disabled={retry.busy || d.status === 'pending'} onClick={() => retry.run()}>
              Retry now
            </button>
          </div>
          <p role="status" class="notice">
            {notice}
          </p>
          <ErrorBox error={retry.error} />
          <h3>Attempts</h3>
          {d.attempts.length === 0 ? <p class="empty">No attempt yet.</p> : null}
          <ol class="attempts">
            {d.attempts.map((a) => (
              <li key={a.id} class="attempt" data-attempt={a.attempt}>
                <h4>
                  Attempt {a.attempt}:{' '}
                  <StatusBadge status={a.status_code !== null && a.status_code >= 200 && a.status_code < 300 ? 'succeeded' : 'failed'} />
                </h4>
                <dl class="facts">
                  <dt>Started</dt>
                  <dd>{formatTime(a.started_at)}</dd>
                  <dt>Response status</dt>
                  <dd class="attempt-status">{a.status_code ?? 'no response'}</dd>
                  <dt>Duration</dt>
                  <dd>{a.duration_ms} ms</dd>
                  {a.error ? (
                    <>
                      <dt>Error</dt>
                      <dd>{a.error}</dd>
                    </>
                  ) : null}
                </dl>
                <details>
                  <summary>Request headers</summary>
                  <pre tabIndex={0}>{requestHeaders(d, a.attempt, a.started_at)}</pre>
                </details>
                <details open={Boolean(a.response_body)}>
                  <summary>Response body (excerpt)</summary>
                  <pre tabIndex={0}>{a.response_body || '(empty)'}</pre>
                </details>
              </li>
            ))}
          </ol>
          <details>
            <summary>Payload</summary>
            <pre tabIndex={0}>{JSON.stringify(d.payload, null, 2)}</pre>
          </details>
        </>
      ) : delivery.loading ? (
        <p class="muted">Loading…</p>
      ) : null}
    </section>
  );
}

/** The headers each attempt carried, rebuilt from the delivery; signatures are derived from the secret, so they are left out. */
function requestHeaders(d: Delivery, attempt: number, startedAt: string): string {
  return [
    'content-type: application/json',
    `webhook-id: ${d.event_id}`,
    `webhook-timestamp: ${Math.floor(Date.parse(startedAt) / 1_000)}`,
    'webhook-signature: v1,… (hidden)',
    'x-webhook-signature: … (hidden)',
    `x-webhook-event: ${d.event_type}`,
    `x-webhook-delivery: ${d.id}`,
    `x-webhook-attempt: ${attempt}`,
  ].join('\n');
}
