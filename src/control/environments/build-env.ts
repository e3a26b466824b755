// The variables a build step runs with: its own temp folder and the package managers' caches, all under $BERTH_HOME.
import { join } from 'node:path';
import type { EnvSnapshot } from '../../core/home.js';

export interface BuildPlaces {
  /** This build's temp folder (removed when the build ends): pip's and npm's scratch, compilers' temp files. */
  readonly tmp: string;
  /** `$BERTH_HOME/cache`, shared by all builds so a rebuild does not download again. */
  readonly cache: string;
}

/** Variables set for every build step; any spelling of them in the plane's environment is replaced. */
const REPLACED = ['TMPDIR', 'TMP', 'TEMP', 'XDG_CACHE_HOME', 'PIP_CACHE_DIR', 'npm_config_cache'];

/**
 * `base` (the control plane's environment) with the build's temp folder and caches put under the home. HOME is left
 * alone on purpose: the user's pip.conf, .npmrc and .netrc (index URLs and credentials) are read from there, and
 * reading them is the point; only writes are kept in the home.
 */
export function buildEnv(base: EnvSnapshot, places: BuildPlaces): EnvSnapshot {
  const replaced = new Set(REPLACED.map((name) => name.toLowerCase()));
  const kept = Object.entries(base).filter(([name]) => !replaced.has(name.toLowerCase()));
  return {
    ...Object.fromEntries(kept),
    TMPDIR: places.tmp,
    TMP: places.tmp,
    TEMP: places.tmp,
    // Tools that follow the XDG convention (pip among them, node-gyp's headers) cache here.
    XDG_CACHE_HOME: places.cache,
    // Explicit too: a PIP_CACHE_DIR of the plane's environment would otherwise win (PIP_NO_CACHE_DIR still does).
    PIP_CACHE_DIR: join(places.cache, 'pip'),
    // npm's cache, and its debug logs (<cache>/_logs).
    npm_config_cache: join(places.cache, 'npm'),
  };
}
