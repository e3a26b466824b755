// The variables of a build step: temp and caches under the home, whatever the plane's environment said; the rest kept.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildEnv } from '../../src/control/environments/build-env.js';

test('temp folder and caches are the home\'s, replacing any spelling of them; other variables (HOME, PATH, PIP_*) are kept', () => {
  const env = buildEnv(
    { PATH: '/bin', HOME: '/home/u', PIP_INDEX_URL: 'https://mirror/simple', TMPDIR: '/tmp', PIP_CACHE_DIR: '/home/u/.cache/pip', NPM_CONFIG_CACHE: '/home/u/.npm', npm_config_cache: '/x', XDG_CACHE_HOME: '/home/u/.cache', PIP_NO_CACHE_DIR: '1' },
    { tmp: '/h/envs/tmp/d', cache: '/h/cache' },
  );
  assert.deepEqual(env, {
    PATH: '/bin', HOME: '/home/u', PIP_INDEX_URL: 'https://mirror/simple', PIP_NO_CACHE_DIR: '1',
    TMPDIR: '/h/envs/tmp/d', TMP: '/h/envs/tmp/d', TEMP: '/h/envs/tmp/d',
    XDG_CACHE_HOME: '/h/cache', PIP_CACHE_DIR: '/h/cache/pip', npm_config_cache: '/h/cache/npm',
  });
});
