import { useState } from 'preact/hooks';
import { query, type Api, type Endpoint, type EventType, type Page } from './api';
import { AttemptsChart } from './chart';
import { DeliveryLog } from './deliveries';
import { hourlyBuckets, loadHealth, recentActivity, type Health } from './health';
import { SecretPanel } from './secret';
import { ErrorBox, formatRate, formatTime, StatusBadge, useAction, useLoad, ViewHeading } from './ui';

export type View =
  | { name: 'list' }
  | { name: 'new' }
  | { name: 'endpoint'; id: string }
  | { name: 'edit'; id: string }
  | { name: 'delivery'; id: string; deliveryId: string };

export interface Nav {
  api: Api;
  go: (view: View) => void;
}

export function EndpointList({ api, go }: Nav) {
  const [pages, setPages] = useState<Endpoint[][]>([]);
  const [cursor, setCursor] = useState<string | null | undefined>(undefined);
  const first = useLoad(async () => {
    const page = await api.get<Page<Endpoint>>(`${query({ limit: 20 })}`);
    setPages([page.data]);
    setCursor(page.next_cursor);
    return page;
  }, []);
  const more = useAction(async () => {
    const page = await api.get<Page<Endpoint>>(`${query({ limit: 20, cursor: cursor ?? undefined })}`);
    setPages((previous) => [...previous, page.data]);
    setCursor(page.next_cursor);
  });
  const endpoints = pages.flat();
  return (
    <section aria-labelledby="endpoints-heading">
      <div class="toolbar">
        <ViewHeading>
          <span id="endpoints-heading">Endpoints</span>
        </ViewHeading>
        <button type="button" class="primary" onClick={() => go({ name: 'new' })}>
          Add endpoint
        </button>
      </div>
      <ErrorBox error={first.error} />
      {first.loading && !endpoints.length ? <p class="muted">Loading…</p> : null}
      {!first.loading && !first.error && endpoints.length === 0 ? (
        <p class="empty">No endpoints yet. Add one to start receiving events.</p>
      ) : null}
      {endpoints.length > 0 && (
        <table class="list">
          <caption class="visually-hidden">Your webhook endpoints with their health over the last 24 hours</caption>
          <thead>
            <tr>
              <th scope="col">Endpoint</th>
              <th scope="col">Status</th>
              <th scope="col">Success (24 h)</th>
              <th scope="col">Attempts (24 h)</th>
            </tr>
          </thead>
          <tbody>
            {endpoints.map((endpoint) => (
              <EndpointRow key={endpoint.id} api={api} go={go} endpoint={endpoint} />
            ))}
          </tbody>
        </table>
      )}
      {cursor ? (
        <button type="button" class="secondary" disabled={more.busy} onClick={() => more.run()}>
          Load more endpoints
        </button>
      ) : null}
      <ErrorBox error={more.error} />
    </section>
  );
}

function EndpointRow({ api, go, endpoint }: Nav & { endpoint: Endpoint }) {
  // One page of deliveries at most per row when the API has no stats route: the list stays cheap.
  const health = useLoad(() => loadHealth(api, endpoint.id, () => recentActivity(api, endpoint.id, 1)), [endpoint.id]);
  return (
    <tr>
      <td>
        <button type="button" class="link" onClick={() => go({ name: 'endpoint', id: endpoint.id })}>
          {endpoint.url}
        </button>
        {endpoint.description ? <div class="description">{endpoint.description}</div> : null}
        <div class="muted small">{endpoint.events.join(', ')}</div>
      </td>
      <td>
        <EnabledBadge endpoint={endpoint} />
      </td>
      <td>{health.data ? `${health.data.partial ? '≈ ' : ''}${formatRate(health.data.rate)}` : health.error ? 'unavailable' : '…'}</td>
      <td>{health.data ? `${health.data.attempts}${health.data.partial ? '+' : ''}` : health.error ? 'unavailable' : '…'}</td>
    </tr>
  );
}

function EnabledBadge({ endpoint }: { endpoint: Endpoint }) {
  if (endpoint.enabled) return <StatusBadge status="enabled" />;
  return (
    <span>
      <StatusBadge status="disabled" />
      {endpoint.disabled_reason ? <div class="small">{endpoint.disabled_reason}</div> : null}
    </span>
  );
}

export function EndpointForm({ api, go, id }: Nav & { id?: string }) {
  const loaded = useLoad(async () => {
    const [types, endpoint] = await Promise.all([
      api.get<Page<EventType>>('/event-types'),
      id ? api.get<Endpoint>(`/${id}`) : Promise.resolve(null),
    ]);
    return { types: types.data, endpoint };
  }, [id]);
  if (loaded.error) return <ErrorBox error={loaded.error} />;
  if (!loaded.data) return <p class="muted">Loading…</p>;
  return <EndpointFields api={api} go={go} types={loaded.data.types} endpoint={loaded.data.endpoint} />;
}

function EndpointFields({ api, go, types, endpoint }: Nav & { types: EventType[]; endpoint: Endpoint | null }) {
  const [url, setUrl] = useState(endpoint?.url ?? '');
  const [description, setDescription] = useState(endpoint?.description ?? '');
  const [events, setEvents] = useState<string[]>(endpoint?.events ?? []);
  const [freeEvents, setFreeEvents] = useState((endpoint?.events ?? []).join(', '));
  const [enabled, setEnabled] = useState(endpoint?.enabled ?? true);
  const save = useAction(async (event: Event) => {
    event.preventDefault();
    const chosen = types.length
      ? events
      : freeEvents
          .split(',')
          .map((name) => name.trim())
          .filter(Boolean);
    const body = { url: url.trim(), description: description.trim() || null, events: chosen, enabled };
    const saved = endpoint ? await api.patch<Endpoint>(`/${endpoint.id}`, body) : await api.post<Endpoint>('', body);
    go({ name: 'endpoint', id: saved.id });
  });
  const toggle = (name: string, on: boolean) => setEvents((previous) => (on ? [...previous, name] : previous.filter((n) => n !== name)));
  return (
    <section>
      <ViewHeading>{endpoint ? 'Edit endpoint' : 'Add endpoint'}</ViewHeading>
      <form onSubmit={save.run} class="form">
        <label for="endpoint-url">Endpoint URL</label>
        <input
          id="endpoint-url"
          type="url"
          required
          value={url}
          onInput={(e) => setUrl(e.currentTarget.value)}
          placeholder="https://example.com/webhooks"
        />
        <label for="endpoint-description">Description</label>
        <input
          id="endpoint-description"
          type="text"
          maxLength={500}
          value={description}
          onInput={(e) => setDescription(e.currentTarget.value)}
        />
        {types.length ? (
          <fieldset>
            <legend>Event types</legend>
            {types.map((type) => (
              <div class="event-type" key={type.name}>
                <input
                  type="checkbox"
                  id={`event-${type.name}`}
                  checked={events.includes(type.name)}
                  onChange={(e) => toggle(type.name, e.currentTarget.checked)}
                  aria-describedby={type.description ? `event-${type.name}-description` : undefined}
                />
                <label for={`event-${type.name}`}>
                  <code>{type.name}</code>
                </label>
                {type.description ? (
                  <div class="muted small" id={`event-${type.name}-description`}>
                    {type.description}
                  </div>
                ) : null}
                {type.schema ? (
                  <details>
                    <summary>Payload schema</summary>
                    <pre tabIndex={0}>{JSON.stringify(type.schema, null, 2)}</pre>
                  </details>
                ) : null}
              </div>
            ))}
          </fieldset>
        ) : (
          <>
            <label for="endpoint-events">Event types (comma-separated)</label>
            <input id="endpoint-events" type="text" required value={freeEvents} onInput={(e) => setFreeEvents(e.currentTarget.value)} />
          </>
        )}
        <div class="check">
          <input id="endpoint-enabled" type="checkbox" checked={enabled} onChange={(e) => setEnabled(e.currentTarget.checked)} />
          <label for="endpoint-enabled">Enabled</label>
        </div>
        <ErrorBox error={save.error} />
        <div class="actions">
          <button type="submit" class="primary" disabled={save.busy}>
            {endpoint ? 'Save changes' : 'Create endpoint'}
          </button>
          <button type="button" class="secondary" onClick={() => go(endpoint ? { name: 'endpoint', id: endpoint.id } : { name: 'list' })}>
            Cancel
          </button>
        </div>
      </form>
    </section>
  );
}

export function EndpointDetail({ api, go, id }: Nav & { id: string }) {
  const endpoint = useLoad(() => api.get<Endpoint>(`/${id}`), [id]);
  const [confirmDelete, setConfirmDelete] = useState(false);
  const [notice, setNotice] = useState('');
  const toggle = useAction(async () => {
    await api.patch(`/${id}`, { enabled: !endpoint.data!.enabled });
    endpoint.reload();
  });
  const remove = useAction(async () => {
    await api.remove(`/${id}`);
    go({ name: 'list' });
  });
  const test = useAction(async () => {
    const sent = await api.post<{ delivery_id: string }>(`/${id}/test`);
    setNotice(`Test event sent (delivery ${sent.delivery_id}).`);
    setLogVersion((v) => v + 1);
  });
  const [logVersion, setLogVersion] = useState(0);
  const [healthVersion, setHealthVersion] = useState(0);
  if (endpoint.error) return <ErrorBox error={endpoint.error} />;
  const e = endpoint.data;
  if (!e) return <p class="muted">Loading…</p>;
  return (
    <section>
      <ViewHeading>Endpoint</ViewHeading>
      <dl class="facts">
        <dt>URL</dt>
        <dd>
          <code class="break">{e.url}</code>
        </dd>
        <dt>Description</dt>
        <dd class="description">{e.description ?? '—'}</dd>
        <dt>Event types</dt>
        <dd>{e.events.join(', ')}</dd>
        <dt>Status</dt>
        <dd>
          <EnabledBadge endpoint={e} />
        </dd>
        <dt>ID</dt>
        <dd>
          <code>{e.id}</code>
        </dd>
      </dl>
      <div class="actions">
        <button type="button" class="secondary" onClick={() => go({ name: 'edit', id })}>
          Edit
        </button>
        <button type="button" class="secondary" disabled={toggle.busy} onClick={() => toggle.run()}>
          {e.enabled ? 'Disable' : 'Enable'}
        </button>
        <button type="button" class="primary" disabled={test.busy || !e.enabled} onClick={() => test.run()}>
          Send test event
        </button>
        <button type="button" class="danger" onClick={() => setConfirmDelete(true)}>
          Delete
        </button>
      </div>
      <p role="status" class="notice">
        {notice}
      </p>
      <ErrorBox error={toggle.error || test.error} />
      {confirmDelete ? (
        <div class="confirm" role="alertdialog" aria-labelledby="delete-title" aria-describedby="delete-text">
          <p id="delete-title">
            <strong>Delete this endpoint?</strong>
          </p>
          <p id="delete-text">It stops receiving events at once, and its delivery log is removed. This cannot be undone.</p>
          <div class="actions">
            <button type="button" class="danger" disabled={remove.busy} onClick={() => remove.run()}>
              Delete endpoint
            </button>
            <button type="button" class="secondary" onClick={() => setConfirmDelete(false)}>
              Keep it
            </button>
          </div>
          <ErrorBox error={remove.error} />
        </div>
      ) : null}
      <HealthPanel api={api} id={id} version={logVersion + healthVersion} />
      <SecretPanel api={api} endpoint={e} />
      <RecoverPanel api={api} id={id} onRecovered={() => setLogVersion((v) => v + 1)} />
      <DeliveryLog api={api} go={go} id={id} version={logVersion} onSettled={() => setHealthVersion((v) => v + 1)} />
    </section>
  );
}

function HealthPanel({ api, id, version }: { api: Api; id: string; version: number }) {
  const data = useLoad(async () => {
    let activity: Promise<Awaited<ReturnType<typeof recentActivity>>> | undefined;
    const read = () => (activity ??= recentActivity(api, id, 5));
    const health: Health = await loadHealth(api, id, read);
    return { health, activity: await read() };
  }, [id, version]);
  const h = data.data?.health;
  return (
    <section class="panel" aria-labelledby="health-heading">
      <h3 id="health-heading">Health, last 24 hours</h3>
      <ErrorBox error={data.error} />
      {h ? (
        <>
          <dl class="stats">
            <div>
              <dt>Success rate</dt>
              <dd>{formatRate(h.rate)}</dd>
            </div>
            <div>
              <dt>Attempts</dt>
              <dd>{h.attempts}</dd>
            </div>
            <div>
              <dt>Failed</dt>
              <dd>{h.failed}</dd>
            </div>
            {h.p50 !== null ? (
              <div>
                <dt>p50 / p95</dt>
                <dd>
                  {h.p50} / {h.p95} ms
                </dd>
              </div>
            ) : null}
            <div>
              <dt>Last success</dt>
              <dd>{formatTime(h.lastSuccess)}</dd>
            </div>
            <div>
              <dt>Last failure</dt>
              <dd>{formatTime(h.lastFailure)}</dd>
            </div>
          </dl>
          {h.source === 'deliveries' ? (
            <p class="muted small">
              Estimated from {h.partial ? 'the latest 500' : 'the'} deliveries of the last 24 hours{h.partial ? ' (there are more)' : ''}.
            </p>
          ) : null}
          <AttemptsChart buckets={hourlyBuckets(data.data!.activity.deliveries)} />
        </>
      ) : data.loading ? (
        <p class="muted">Loading…</p>
      ) : null}
    </section>
  );
}

function RecoverPanel({ api, id, onRecovered }: { api: Api; id: string; onRecovered: () => void }) {
  const [since, setSince] = useState('');
  const [result, setResult] = useState('');
  const recover = useAction(async (event: Event) => {
    event.preventDefault();
    const at = new Date(since);
    if (Number.isNaN(at.getTime())) throw new Error('Choose a date and time to recover from.');
    const { recovering } = await api.post<{ recovering: number }>(`/${id}/recover`, { since: at.toISOString() });
    setResult(`Sending ${recovering} failed or skipped ${recovering === 1 ? 'delivery' : 'deliveries'} again.`);
    onRecovered();
  });
  return (
    <section class="panel" aria-labelledby="recover-heading">
      <h3 id="recover-heading">Recover failed deliveries</h3>
      <form class="inline" onSubmit={recover.run}>
        <label for="recover-since">Failed since</label>
        <input id="recover-since" type="datetime-local" required value={since} onInput={(e) => setSince(e.currentTarget.value)} />
        <button type="submit" class="secondary" disabled={recover.busy}>
          Recover
        </button>
      </form>
      <p role="status">{result}</p>
      <ErrorBox error={recover.error} />
    </section>
  );
}
