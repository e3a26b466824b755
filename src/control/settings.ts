// The control plane's settings, parsed once at the edge (flags + env snapshot) with zod, then frozen.
import { z } from 'zod';
import { parseOrThrow } from '../core/parse-settings.js';
import { resolveHome, type EnvSnapshot } from '../core/home.js';

export const DEFAULT_PORT = 7070;
export const DEFAULT_HOST = '127.0.0.1';

const schema = z
  .object({
    home: z.string().min(1),
    host: z.string().min(1),
    // 0 asks the OS for a free port; the run file records the real one.
    port: z
      .union([z.number(), z.string().regex(/^\d+$/, 'must be a whole number').transform(Number)])
      .pipe(z.number().int().min(0).max(65535)),
  })
  .strict();

export type ControlSettings = Readonly<z.infer<typeof schema>>;

export interface ControlFlags {
  home?: string | undefined;
  host?: string | undefined;
  port?: string | number | undefined;
}

export function parseControlSettings(flags: ControlFlags, env: EnvSnapshot): ControlSettings {
  const raw = {
    home: resolveHome(flags.home, env),
    host: flags.host ?? DEFAULT_HOST,
    port: flags.port ?? DEFAULT_PORT,
  };
  return Object.freeze(parseOrThrow(schema, raw, { port: '--port', host: '--host', home: '--home / BERTH_HOME' }));
}
