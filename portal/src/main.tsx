import { render } from 'preact';
import { useMemo, useState } from 'preact/hooks';
import { createApi, type AuthFailure } from './api';
import { DeliveryView } from './deliveries';
import { EndpointDetail, EndpointForm, EndpointList, type View } from './endpoints';

const root = document.documentElement;
const config = { title: root.dataset.title || 'Webhooks', logo: root.dataset.logo || '', accent: root.dataset.accent || '#2563eb' };
// The page is served at {api}/portal, under whatever prefix the host mounted the API.
const apiBase = location.pathname.replace(/\/portal\/?$/, '');
const storageKey = `nestjs-webhooks-portal:${location.pathname}`;

/**
 * The token arrives in the fragment, which is never sent to a server. It is moved out of the address
 * bar at once (history, screenshots, shoulder surfing) and kept for this tab only, so a reload works.
 */
function takeToken(): string | null {
  const fromLink = new URLSearchParams(location.hash.slice(1)).get('token');
  if (fromLink) {
    history.replaceState(null, '', location.pathname + location.search);
    try {
      sessionStorage.setItem(storageKey, fromLink);
    } catch {
      // Storage can be off in a third-party frame; the token then lives until the page closes.
    }
    return fromLink;
  }
  try {
    return sessionStorage.getItem(storageKey);
  } catch {
    return null;
  }
}

/** The accent as set by the host, with black or white text on it, whichever contrasts more (always at least 4.5:1). */
function applyAccent(hex: string): void {
  const full = hex.length === 4 ? `#${[...hex.slice(1)].map((c) => c + c).join('')}` : hex;
  const channel = (i: number) => {
    const c = parseInt(full.slice(1 + i * 2, 3 + i * 2), 16) / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  };
  const luminance = 0.2126 * channel(0) + 0.7152 * channel(1) + 0.0722 * channel(2);
  const onAccent = (luminance + 0.05) / 0.05 >= 1.05 / (luminance + 0.05) ? '#000000' : '#ffffff';
  root.style.setProperty('--accent', full);
  root.style.setProperty('--on-accent', onAccent);
}

function Message({ title, children }: { title: string; children: string }) {
  return (
    <section class="message" role="alert">
      <h2>{title}</h2>
      <p>{children}</p>
    </section>
  );
}

function App({ token }: { token: string | null }) {
  const [view, setView] = useState<View>({ name: 'list' });
  const [failure, setFailure] = useState<AuthFailure | null>(null);
  const api = useMemo(() => createApi(apiBase, token ?? '', setFailure), [token]);
  const go = (next: View) => {
    setView(next);
    window.scrollTo(0, 0);
  };
  let body;
  if (!token) body = <Message title="No portal link">Open the portal from the application to get a link.</Message>;
  else if (failure === 'expired')
    body = (
      <Message title="Portal link expired">Portal links are short-lived. Go back to the application and open the portal again.</Message>
    );
  else if (failure) body = <Message title="Portal link not valid">Go back to the application and open the portal again.</Message>;
  else if (view.name === 'list') body = <EndpointList api={api} go={go} />;
  else if (view.name === 'new') body = <EndpointForm api={api} go={go} />;
  else if (view.name === 'edit') body = <EndpointForm api={api} go={go} id={view.id} />;
  else if (view.name === 'endpoint') body = <EndpointDetail key={view.id} api={api} go={go} id={view.id} />;
  else body = <DeliveryView api={api} go={go} id={view.id} deliveryId={view.deliveryId} />;
  return (
    <>
      <header class="top">
        {config.logo ? <img src={config.logo} alt="" class="logo" /> : null}
        <h1>{config.title}</h1>
      </header>
      <nav aria-label="Portal">
        {token && !failure && view.name !== 'list' ? (
          <button type="button" class="link" onClick={() => go({ name: 'list' })}>
            ← All endpoints
          </button>
        ) : null}
      </nav>
      <main>{body}</main>
    </>
  );
}

applyAccent(config.accent);
const container = document.getElementById('app')!;
container.textContent = '';
render(<App token={takeToken()} />, container);
