import { useState } from 'preact/hooks';
import type { Api, Endpoint } from './api';
import { CopyButton, ErrorBox, useAction } from './ui';

/** Reveal, copy and rotate the signing secret, and show receiver code that verifies it. */
export function SecretPanel({ api, endpoint }: { api: Api; endpoint: Endpoint }) {
  const [secret, setSecret] = useState<string | null>(null);
  const [confirmRotate, setConfirmRotate] = useState(false);
  const [notice, setNotice] = useState('');
  const [language, setLanguage] = useState<'node' | 'python'>('node');
  const reveal = useAction(async () => {
    setSecret((await api.get<{ secret: string }>(`/${endpoint.id}/secret`)).secret);
  });
  const rotate = useAction(async () => {
    setSecret((await api.post<{ secret: string }>(`/${endpoint.id}/rotate-secret`)).secret);
    setConfirmRotate(false);
    setNotice('Secret rotated. Deliveries are signed with both secrets until the overlap ends, so update your receiver now.');
  });
  const snippet = language === 'node' ? nodeSnippet(endpoint, secret) : pythonSnippet(endpoint, secret);
  return (
    <section class="panel" aria-labelledby="secret-heading">
      <h3 id="secret-heading">Signing secret</h3>
      {secret ? (
        <p class="secret">
          <code id="secret-value" class="break">
            {secret}
          </code>{' '}
          <CopyButton text={secret} label="Copy secret" />
        </p>
      ) : (
        <p class="muted">Hidden. Reveal it to set up your receiver.</p>
      )}
      <div class="actions">
        {!secret ? (
          <button type="button" class="secondary" disabled={reveal.busy} onClick={() => reveal.run()}>
            Reveal secret
          </button>
        ) : null}
        <button type="button" class="secondary" onClick={() => setConfirmRotate(true)}>
          Rotate secret
        </button>
      </div>
      {confirmRotate ? (
        <div class="confirm" role="alertdialog" aria-labelledby="rotate-title">
          <p id="rotate-title">
            <strong>Issue a new secret?</strong> The current one keeps signing for a while, then stops.
          </p>
          <div class="actions">
            <button type="button" class="danger" disabled={rotate.busy} onClick={() => rotate.run()}>
              Rotate now
            </button>
            <button type="button" class="secondary" onClick={() => setConfirmRotate(false)}>
              Cancel
            </button>
          </div>
        </div>
      ) : null}
      <p role="status" class="notice">
        {notice}
      </p>
      <ErrorBox error={reveal.error || rotate.error} />
      <h4 id="snippet-heading">Verify deliveries</h4>
      <div role="group" aria-labelledby="snippet-heading" class="tabs">
        <button
          type="button"
          class={language === 'node' ? 'tab active' : 'tab'}
          aria-pressed={language === 'node'}
          onClick={() => setLanguage('node')}
        >
          Node.js
        </button>
        <button
          type="button"
          class={language === 'python' ? 'tab active' : 'tab'}
          aria-pressed={language === 'python'}
          onClick={() => setLanguage('python')}
        >
          Python
        </button>
      </div>
      <pre tabIndex={0} class="snippet" id="verify-snippet" data-language={language}>
        {snippet}
      </pre>
      <CopyButton text={snippet} label="Copy code" />
    </section>
  );
}

const placeholder = (secret: string | null, env: string) => (secret ? JSON.stringify(secret) : env);

export function nodeSnippet(endpoint: Endpoint, secret: string | null): string {
  return `// Verifies deliveries to ${endpoint.id} (${endpoint.url}).
// Pass the raw body exactly as received, before any JSON parsing.
const crypto = require('node:crypto');

const SECRET = ${placeholder(secret, 'process.env.WEBHOOK_SECRET')};

function verifyWebhook(headers, rawBody) {
  const id = headers['webhook-id'];
  const timestamp = headers['webhook-timestamp'];
  const signatures = String(headers['webhook-signature'] || '').split(' ');
  if (Math.abs(Date.now() / 1000 - Number(timestamp)) > 5 * 60) return false;
  const key = Buffer.from(SECRET.slice('whsec_'.length), 'base64');
  const expected = crypto.createHmac('sha256', key).update(\`\${id}.\${timestamp}.\${rawBody}\`).digest('base64');
  return signatures.some((entry) => {
    const [version, signature = ''] = entry.split(',');
    return version === 'v1' && signature.length === expected.length &&
      crypto.timingSafeEqual(Buffer.from(signature), Buffer.from(expected));
  });
}
`;
}

export function pythonSnippet(endpoint: Endpoint, secret: string | null): string {
  return `# Verifies deliveries to ${endpoint.id} (${endpoint.url}).
# Pass the raw body bytes exactly as received, before any JSON parsing.
import base64, hashlib, hmac, os, time

SECRET = ${placeholder(secret, 'os.environ["WEBHOOK_SECRET"]')}

def verify_webhook(headers, raw_body: bytes) -> bool:
    msg_id = headers["webhook-id"]
    timestamp = headers["webhook-timestamp"]
    if abs(time.time() - int(timestamp)) > 5 * 60:
        return False
    key = base64.b64decode(SECRET.removeprefix("whsec_"))
    signed = f"{msg_id}.{timestamp}.".encode() + raw_body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    for entry in headers["webhook-signature"].split(" "):
        version, _, signature = entry.partition(",")
        if version == "v1" and hmac.compare_digest(signature, expected):
            return True
    return False
`;
}
