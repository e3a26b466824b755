// Models: every registered version with its size, tags and the services that mount it; files on demand.
import { useState } from 'preact/hooks';
import type { ModelRow } from '../../shared/protocol.js';
import { Empty, ErrorBox } from '../components/bits.js';
import { enc, getJson } from '../lib/api.js';
import { bytes, time } from '../lib/format.js';
import { useLoad } from '../lib/hooks.js';
import { href } from '../lib/router.js';
import type { ModelDetail } from '../lib/types.js';

function Files({ m }: { m: ModelRow }) {
  const d = useLoad((s) => getJson<ModelDetail>(`/v1/models/${enc(m.name)}/versions/${m.version}`, s), [m.name, m.version]);
  if (d.error !== undefined) return <ErrorBox error={d.error} />;
  if (d.data === undefined) return <p class="hint">Loading files…</p>;
  return (
    <table class="grid files"><tbody>{d.data.files.map((f) => (
      <tr key={f.path}><td><code>{f.path}</code></td><td class="num">{bytes(f.size)}</td><td><code class="sub" title={f.digest}>sha256:{f.digest.slice(0, 12)}…</code></td></tr>
    ))}</tbody></table>
  );
}

export function ModelsPage() {
  const models = useLoad((s) => getJson<{ models: ModelRow[] }>('/v1/dashboard/models', s), []);
  const [open, setOpen] = useState<string | undefined>();
  const rows = models.data?.models ?? [];
  return (
    <div>
      <div class="page-head"><h1>Models</h1><button type="button" class="small" onClick={models.reload}>Refresh</button></div>
      {models.error === undefined ? null : <ErrorBox error={models.error} />}
      {models.data !== undefined && rows.length === 0 ? <Empty>No models yet: <code>berth model register --name NAME --path ./model</code>.</Empty> : null}
      {rows.length === 0 ? null : (
        <table class="grid" data-testid="models">
          <thead><tr><th>Model</th><th class="num">Files</th><th class="num">Size</th><th>Registered</th><th>Tags</th><th>Used by</th><th /></tr></thead>
          <tbody>{rows.map((m) => {
            const key = `${m.name}:${m.version}`;
            return [
              <tr key={key}>
                <td><b>{m.name}</b>:{m.version}{m.description === '' ? null : <div class="sub">{m.description}</div>}</td>
                <td class="num">{m.file_count}</td>
                <td class="num">{bytes(m.size)}</td>
                <td>{time(m.created_at)}</td>
                <td>{Object.entries(m.tags).map(([k, v]) => <span key={k} class="tag">{k}={v}</span>)}</td>
                <td>{m.services.length === 0 ? <span class="sub">none</span> : m.services.map((s) => <a key={s} class="tag" href={href(`/services/${s}`)}>{s}</a>)}</td>
                <td><button type="button" class="small" onClick={() => setOpen(open === key ? undefined : key)}>{open === key ? 'Hide files' : 'Files'}</button></td>
              </tr>,
              open === key ? <tr key={`${key}-files`}><td colSpan={7}><Files m={m} /></td></tr> : null,
            ];
          })}</tbody>
        </table>
      )}
    </div>
  );
}
