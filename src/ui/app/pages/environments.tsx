// Environments: versions with their build state, size and time; a failed build's error; the build log on demand.
import { useEffect, useState } from 'preact/hooks';
import { Badge, Empty, ErrorBox } from '../components/bits.js';
import { enc, getJson, getText } from '../lib/api.js';
import { bytes, duration, time } from '../lib/format.js';
import { useLoad } from '../lib/hooks.js';
import type { Environment } from '../lib/types.js';

/** While a build runs its state is read again this often (builds have no events on the stream). */
const BUILDING_REFRESH_MS = 2000;

function BuildLog({ e }: { e: Environment }) {
  const log = useLoad((s) => getText(`/v1/environments/${enc(e.name)}/versions/${e.version}/log?tail=300`, s), [e.name, e.version, e.state]);
  if (log.error !== undefined) return <ErrorBox error={log.error} />;
  return <pre class="log">{log.data ?? 'Loading…'}</pre>;
}

export function EnvironmentsPage() {
  const envs = useLoad((s) => getJson<{ environments: Environment[] }>('/v1/environments', s), []);
  const [open, setOpen] = useState<string | undefined>();
  const rows = envs.data?.environments ?? [];
  const building = rows.some((e) => e.state === 'Building');
  const { reload } = envs;
  useEffect(() => {
    if (!building) return;
    const timer = setInterval(reload, BUILDING_REFRESH_MS);
    return () => clearInterval(timer);
  }, [building, reload]);
  return (
    <div>
      <div class="page-head"><h1>Environments</h1><button type="button" class="small" onClick={reload}>Refresh</button></div>
      {envs.error === undefined ? null : <ErrorBox error={envs.error} />}
      {envs.data !== undefined && rows.length === 0 ? <Empty>No environments yet: <code>berth env create --name NAME --file requirements.txt</code>.</Empty> : null}
      {rows.length === 0 ? null : (
        <table class="grid" data-testid="environments">
          <thead><tr><th>Environment</th><th>Build</th><th class="num">Builds</th><th class="num">Size</th><th class="num">Build time</th><th>Interpreter</th><th>Created</th><th /></tr></thead>
          <tbody>{rows.map((e) => {
            const key = `${e.name}:${e.version}`;
            return [
              <tr key={key}>
                <td><b>{e.name}</b>:{e.version}<div class="sub" title={e.digest}>{e.digest.slice(0, 12)}</div></td>
                <td><Badge state={e.state} />{e.error === undefined ? null : <div class="bad-text sub clamp" title={e.error.message}>{e.error.message}</div>}</td>
                <td class="num">{e.builds}</td>
                <td class="num">{bytes(e.size)}</td>
                <td class="num">{e.build_ms === undefined ? '–' : duration(e.build_ms)}</td>
                <td><code class="sub">{e.python ?? 'node'}</code></td>
                <td>{time(e.created_at)}</td>
                <td><button type="button" class="small" onClick={() => setOpen(open === key ? undefined : key)}>{open === key ? 'Hide log' : 'Build log'}</button></td>
              </tr>,
              open === key ? <tr key={`${key}-log`}><td colSpan={8}><BuildLog e={e} /></td></tr> : null,
            ];
          })}</tbody>
        </table>
      )}
    </div>
  );
}
