// Container images the plane made, pulled or tried; without Docker, the reason and how to start it.
import { Badge, Empty, ErrorBox } from '../components/bits.js';
import { getJson } from '../lib/api.js';
import { bytes, duration, time } from '../lib/format.js';
import { useLoad } from '../lib/hooks.js';
import type { Image } from '../lib/types.js';

export function ImagesPage() {
  const images = useLoad((s) => getJson<{ images: Image[] }>('/v1/images', s), []);
  const rows = images.data?.images ?? [];
  return (
    <div>
      <div class="page-head"><h1>Images</h1><button type="button" class="small" onClick={images.reload}>Refresh</button></div>
      {images.error === undefined ? null : <ErrorBox error={images.error} />}
      {images.data !== undefined && rows.length === 0 ? <Empty>No images yet: services with <code>runtime: docker</code> build theirs at deploy.</Empty> : null}
      {rows.length === 0 ? null : (
        <table class="grid" data-testid="images">
          <thead><tr><th>Tag</th><th>Layer</th><th>State</th><th class="num">Size</th><th class="num">Build</th><th>Service</th><th>Last used</th></tr></thead>
          <tbody>{rows.map((i) => (
            <tr key={i.tag}>
              <td><code>{i.tag}</code>{i.why === undefined ? null : <div class="sub">{i.why}</div>}{i.error === undefined ? null : <div class="bad-text sub clamp" title={i.error.message}>{i.error.message}</div>}</td>
              <td>{i.kind}</td>
              <td><Badge state={i.state} />{i.present ? null : <div class="sub">not in the engine</div>}</td>
              <td class="num">{bytes(i.size)}</td>
              <td class="num">{i.build_ms === undefined ? '–' : duration(i.build_ms)}</td>
              <td>{i.service ?? '–'}</td>
              <td>{time(i.last_used_at)}</td>
            </tr>
          ))}</tbody>
        </table>
      )}
    </div>
  );
}
