// A service's scoring keys: hidden until asked for, hidden again on request; never kept beyond this view.
import { useState } from 'preact/hooks';
import { Copy, ErrorBox } from '../components/bits.js';
import { enc, getJson } from '../lib/api.js';
import type { Keys } from '../lib/types.js';

export function ServiceKeys({ name, auth }: { name: string; auth: string }) {
  const [keys, setKeys] = useState<Keys | undefined>();
  const [error, setError] = useState<Error | undefined>();
  if (auth !== 'key') return <p class="hint">{auth === 'token' ? `Token auth: clients get a short-lived token (berth service token ${name}).` : 'No auth: scoring needs no credential.'}</p>;
  return (
    <div data-testid="keys">
      {keys === undefined ? (
        <button type="button" onClick={() => { setError(undefined); getJson<Keys>(`/v1/services/${enc(name)}/keys`).then(setKeys, (e: Error) => setError(e)); }}>Show keys</button>
      ) : (
        <div>
          <table class="grid kv"><tbody>
            <tr><th>primary</th><td><code data-testid="primary-key">{keys.primary_key}</code> <Copy text={keys.primary_key} /></td></tr>
            <tr><th>secondary</th><td><code>{keys.secondary_key}</code> <Copy text={keys.secondary_key} /></td></tr>
          </tbody></table>
          <button type="button" onClick={() => setKeys(undefined)}>Hide keys</button>
        </div>
      )}
      {error === undefined ? null : <ErrorBox error={error} />}
      <p class="hint">Send one as <code>Authorization: Bearer KEY</code>. Regenerate with <code>berth service regen-key {name} --key primary</code>.</p>
    </div>
  );
}
