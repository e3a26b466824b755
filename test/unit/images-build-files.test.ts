// What berth sends the engine: generated Dockerfiles, tar build contexts (long names included), pip's target flags, the apt mirror.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createWriteStream, mkdtempSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { appDockerfile, bakeable, envDockerfile, quoteEnv, runtimeDockerfile } from '../../src/images/dockerfile.js';
import { tarStream, type TarEntry } from '../../src/images/tar.js';
import { pipCommand } from '../../src/images/resolve.js';
import { aptMirror } from '../../src/images/base-image.js';

const dir = mkdtempSync(join(tmpdir(), 'berth-build-files-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('the runtime layer copies node and berth, and checks both run on the base', () => {
  assert.equal(runtimeDockerfile('sha256:abc'), [
    '# berth runtime layer: the host\'s Node.js binary and berth\'s own runtime files',
    'FROM sha256:abc',
    'COPY node /usr/local/bin/node',
    'COPY berth/ /opt/berth/',
    'RUN ["/usr/local/bin/node","--version"]',
    'RUN ["/usr/local/bin/node","/opt/berth/bin/berth.js","--version"]',
    '',
  ].join('\n'));
});

test('the Python env layer installs the locked wheels in a build stage with no index, and copies only the virtualenv on', () => {
  const text = envDockerfile('berth/runtime:r1', { kind: 'python', python: '/usr/bin/python3', systemSitePackages: true, install: true });
  const lines = text.split('\n');
  assert.equal(lines[1], 'FROM berth/runtime:r1 AS install');
  assert.ok(lines.includes('RUN ["/usr/bin/python3","-m","venv","--system-site-packages","/opt/berth-env/venv"]'));
  assert.ok(lines.some((l) => l.startsWith('RUN ["/opt/berth-env/venv/bin/python","-m","pip","install","--no-index","--find-links","/tmp/berth-wheels","--require-hashes"')));
  assert.ok(lines.includes('FROM berth/runtime:r1'));
  assert.ok(lines.includes('COPY --from=install /opt/berth-env /opt/berth-env'));
  assert.ok(lines.includes('ENV VIRTUAL_ENV=/opt/berth-env/venv PATH=/opt/berth-env/venv/bin:$PATH'));
  // The wheels are copied into the install stage only.
  assert.equal(lines.filter((l) => l.startsWith('COPY wheels/ ')).length, 1);
  assert.ok(lines.indexOf('COPY wheels/ /tmp/berth-wheels/') < lines.indexOf('FROM berth/runtime:r1'));
  const empty = envDockerfile('berth/runtime:r1', { kind: 'python', python: '/usr/local/bin/python3', systemSitePackages: false, install: false });
  assert.ok(empty.includes('RUN ["/usr/local/bin/python3","-m","venv","--without-pip","/opt/berth-env/venv"]'));
  assert.ok(!empty.includes('pip","install'));
  assert.match(envDockerfile('berth/runtime:r1', { kind: 'node' }), /COPY env\/ \/opt\/berth-env\/\nENV NODE_PATH=\/opt\/berth-env\/node_modules/);
});

test('the app layer copies the source to /var/azureml-app and sets AML_APP_ROOT and the variables, quoted', () => {
  const text = appDockerfile('berth/env:e1', { Z: 'last', A: 'a "quoted" $HOME \\ value', MULTI: 'two\nlines' });
  assert.equal(text, [
    '# berth app layer: the source snapshot',
    'FROM berth/env:e1',
    'COPY app/ /var/azureml-app/',
    'ENV AML_APP_ROOT=/var/azureml-app',
    'ENV A="a \\"quoted\\" \\$HOME \\\\ value"',
    'ENV Z="last"',
    'WORKDIR /var/azureml-app',
    '',
  ].join('\n'));
  assert.equal(quoteEnv('$x'), '"\\$x"');
  assert.equal(bakeable('two\nlines'), false);
  assert.equal(bakeable('one line'), true);
});

test('tar contexts: files from disk and memory, folders, links and long names (PAX) read back by tar exactly', async () => {
  const big = join(dir, 'big.bin');
  writeFileSync(big, Buffer.alloc(70_000, 7));
  // Names around the lengths where a PAX record's length gains a digit (records of 99/100 and 999/1000 bytes).
  const names = [90, 91, 92, 100, 101, 980, 985, 990, 995].map(longPath);
  const entries: TarEntry[] = [
    { type: 'dir', path: 'd', mode: 0o755 },
    { type: 'file', path: 'd/run.sh', mode: 0o755, data: Buffer.from('#!/bin/sh\necho hi\n') },
    { type: 'file', path: 'd/big.bin', mode: 0o644, source: big, size: 70_000 },
    { type: 'symlink', path: 'd/link', target: 'run.sh' },
    { type: 'file', path: 'd/é-unicode.txt', mode: 0o600, data: Buffer.from('u') },
    ...names.map((path): TarEntry => ({ type: 'file', path, mode: 0o644, data: Buffer.from(path) })),
  ];
  const archive = join(dir, 'context.tar');
  await pipeline(tarStream(entries), createWriteStream(archive));
  const out = join(dir, 'out');
  execFileSync('mkdir', ['-p', out]);
  execFileSync('tar', ['-xf', archive, '-C', out]);
  assert.equal(readFileSync(join(out, 'd/run.sh'), 'utf8'), '#!/bin/sh\necho hi\n');
  assert.equal(statSync(join(out, 'd/run.sh')).mode & 0o777, 0o755);
  assert.deepEqual(readFileSync(join(out, 'd/big.bin')), Buffer.alloc(70_000, 7));
  assert.equal(readlinkSync(join(out, 'd/link')), 'run.sh');
  assert.equal(readFileSync(join(out, 'd/é-unicode.txt'), 'utf8'), 'u');
  for (const name of names) assert.equal(readFileSync(join(out, name), 'utf8'), name, `${name.length} characters`);
  assert.equal(statSync(archive).size % 512, 0);
});

/** A path of exactly n characters under d/, in folders of at most 60 (a file system's limit is per name). */
function longPath(n: number): string {
  let path = 'd';
  while (path.length < n) {
    const left = n - path.length - 1;
    path += `/${'x'.repeat(Math.min(60, left === 61 ? 59 : left))}`;
  }
  assert.equal(path.length, n);
  return path;
}

test('pip resolves for the image: `pip wheel` with the same Python version, binary wheels for its version and machine otherwise', () => {
  assert.deepEqual(pipCommand(true, { python: '/usr/bin/python3', version: '3.11.2', machine: 'x86_64' }, '/w'), ['wheel', '--wheel-dir', '/w']);
  const other = pipCommand(false, { python: '/usr/local/bin/python3', version: '3.12.1', machine: 'aarch64' }, '/w');
  assert.deepEqual(other.slice(0, 8), ['download', '--dest', '/w', '--only-binary=:all:', '--python-version', '3.12', '--implementation', 'cp']);
  assert.ok(other.includes('cp312') && other.includes('abi3'));
  assert.ok(other.includes('manylinux2014_aarch64') && other.includes('manylinux_2_28_aarch64'));
});

test('the Debian mirror comes from apt\'s sources: deb822 or one-line, the archive that serves bookworm itself', () => {
  const deb822 = 'Types: deb\nURIs: http://deb.debian.org/debian-security\nSuites: bookworm-security\nComponents: main\n\nTypes: deb deb-src\nURIs: http://mirror.example/debian/\nSuites: bookworm bookworm-updates\nComponents: main\n';
  assert.equal(aptMirror([deb822]), 'http://mirror.example/debian');
  assert.equal(aptMirror(['# comment\ndeb [signed-by=/k.gpg] http://ftp.example/debian bookworm main\ndeb http://security.debian.org bookworm-security main\n']), 'http://ftp.example/debian');
  assert.equal(aptMirror(['deb http://one.example/debian bullseye main\n']), 'http://one.example/debian');
  assert.equal(aptMirror(['Types: deb\nURIs: file:/srv/local\nSuites: bookworm\n']), undefined);
  assert.equal(aptMirror([]), undefined);
});
