// "Send a request": scores through the gateway with the service's key (fetched, never shown) and shows status, time, request id, headers and body.
import { useState } from 'preact/hooks';
import { ErrorBox } from '../components/bits.js';
import { enc, getJson, sendJson } from '../lib/api.js';
import { ms } from '../lib/format.js';
import type { Keys, ScoringToken } from '../lib/types.js';

interface Result { status: number; statusText: string; ms: number; headers: [string, string][]; body: string; requestId: string }

/** The credential scoring needs: the primary key, a fresh token, or none. */
async function credential(name: string, auth: string): Promise<Record<string, string>> {
  if (auth === 'none') return {};
  const value = auth === 'token'
    ? (await sendJson<ScoringToken>('POST', `/v1/services/${enc(name)}/token`, {}))!.access_token
    : (await getJson<Keys>(`/v1/services/${enc(name)}/keys`)).primary_key;
  return { authorization: `Bearer ${value}` };
}

function pretty(text: string): string {
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}

export function RequestForm({ name, auth }: { name: string; auth: string }) {
  const [method, setMethod] = useState<'POST' | 'GET'>('POST');
  const [body, setBody] = useState('{"data": [[1, 2, 3]]}');
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<Result | undefined>();
  const [error, setError] = useState<Error | undefined>();
  const send = async (): Promise<void> => {
    setBusy(true);
    setError(undefined);
    try {
      const headers = { ...(await credential(name, auth)), ...(method === 'POST' ? { 'content-type': 'application/json' } : {}) };
      const started = performance.now();
      // Same origin as the page: the gateway on the plane's port, as any client would call it.
      const res = await fetch(`/api/v1/service/${enc(name)}/score`, { method, headers, ...(method === 'POST' ? { body } : {}) });
      const text = await res.text();
      setResult({ status: res.status, statusText: res.statusText, ms: performance.now() - started, headers: [...res.headers.entries()], body: text, requestId: res.headers.get('x-request-id') ?? '' });
    } catch (e) {
      setError(e instanceof Error ? e : new Error(String(e)));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="request" data-testid="request-form" onSubmit={(e) => { e.preventDefault(); void send(); }}>
      <div class="toolbar">
        <select value={method} onChange={(e) => setMethod(e.currentTarget.value as 'POST' | 'GET')}><option>POST</option><option>GET</option></select>
        <code>/api/v1/service/{name}/score</code>
        <span class="hint">{auth === 'key' ? 'with the primary key' : auth === 'token' ? 'with a fresh token' : 'no credential needed'}</span>
        <button type="submit" class="primary" disabled={busy}>{busy ? 'Sending…' : 'Send'}</button>
      </div>
      {method === 'POST' ? <textarea name="body" rows={4} spellcheck={false} value={body} onInput={(e) => setBody(e.currentTarget.value)} /> : null}
      {error === undefined ? null : <ErrorBox error={error} />}
      {result === undefined ? null : (
        <div class="result" data-testid="request-result">
          <div class="toolbar">
            <span class={`badge ${result.status < 400 ? 'ok' : result.status < 500 ? 'warn' : 'bad'}`} data-testid="response-status">{result.status} {result.statusText}</span>
            <span>{ms(result.ms)}</span>
            <span>request id <code data-testid="request-id">{result.requestId}</code></span>
          </div>
          <pre class="body">{pretty(result.body)}</pre>
          <details><summary>Response headers ({result.headers.length})</summary>
            <table class="grid kv"><tbody>{result.headers.map(([k, v]) => <tr key={k}><th>{k}</th><td><code>{v}</code></td></tr>)}</tbody></table>
          </details>
        </div>
      )}
    </form>
  );
}
