// berth's own base image, made offline: a Debian bookworm minbase root file system with python3 (debootstrap), trimmed and imported.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EnvSnapshot } from '../core/home.js';
import { BerthError } from '../errors/catalogue.js';
import { acquireFileLock } from '../control/environments/build-lock.js';
import { runStep } from '../control/environments/run-step.js';
import { tail } from '../control/environments/python-build.js';
import { describe, readProgress, type DockerConnection } from './docker.js';
import { inspectImage, type LocalImage } from './engine.js';
import type { PythonTarget } from './resolve.js';

export const BASE_IMAGE = 'berth/base:bookworm';
const SUITE = 'bookworm';
const DEFAULT_MIRROR = 'http://deb.debian.org/debian';
const DEBOOTSTRAP_TIMEOUT_MS = 30 * 60_000;

/** What the trim removes: documentation, locales, apt's lists and caches, logs (about half the root file system). */
const TRIM = ['var/lib/apt/lists', 'var/cache/apt', 'usr/share/doc', 'usr/share/man', 'usr/share/info', 'usr/share/locale', 'var/log', 'tmp'];

export interface BaseBuildOptions {
  readonly force: boolean;
  readonly mirror?: string;
  readonly env: EnvSnapshot;
  /** Where the root file system is made (and removed again). */
  readonly workDir: string;
  readonly log: string;
  readonly signal: AbortSignal;
  readonly onStep?: (step: string) => void;
  /** For tests: the files apt's sources are read from. */
  readonly aptSources?: readonly string[];
}

export interface BaseBuildResult {
  readonly tag: string;
  readonly id: string;
  readonly size: number;
  /** True when it was there already (and not --force). */
  readonly skipped: boolean;
  readonly mirror?: string;
  readonly ms: number;
}

/** Where a home keeps the base's log, lock and scratch root file system (the CLI and the control plane share them). */
export function baseImagePaths(home: string): { log: string; lock: string; workDir: string } {
  return { log: join(home, 'images', 'logs', 'base.log'), lock: join(home, 'images', 'locks', 'base.lock'), workDir: join(home, 'images', 'work') };
}

/** buildBaseImage under the home's lock (one debootstrap at a time), logging to images/logs/base.log. */
export async function makeBaseImage(conn: DockerConnection, home: string, o: Omit<BaseBuildOptions, 'workDir' | 'log'>): Promise<BaseBuildResult> {
  const paths = baseImagePaths(home);
  for (const file of [paths.log, paths.lock]) mkdirSync(join(file, '..'), { recursive: true });
  const release = await acquireFileLock(paths.lock, { signal: o.signal });
  try {
    writeFileSync(paths.log, `# ${new Date().toISOString()} making ${BASE_IMAGE}\n`);
    return await buildBaseImage(conn, { ...o, workDir: paths.workDir, log: paths.log });
  } finally {
    release();
  }
}

/** Makes berth/base:bookworm unless it exists (or `force`): debootstrap → trim → import through the Engine API. */
export async function buildBaseImage(conn: DockerConnection, o: BaseBuildOptions): Promise<BaseBuildResult> {
  const started = performance.now();
  const present = await inspectImage(conn, BASE_IMAGE);
  if (present !== undefined && !o.force) return { tag: BASE_IMAGE, id: present.id, size: present.size, skipped: true, ms: performance.now() - started };
  const debootstrap = findDebootstrap(o.env);
  if (debootstrap === undefined) throw new BerthError('DEBOOTSTRAP_NOT_FOUND', { package: 'debootstrap' });
  if (process.getuid?.() !== 0) throw baseFailed('debootstrap', 'debootstrap must run as root (it makes device files and runs chroot); run berth image base as root', '');
  const mirror = o.mirror ?? aptMirror(readSources(o.aptSources)) ?? DEFAULT_MIRROR;
  const rootfs = join(o.workDir, `rootfs-${process.pid}`);
  rmSync(rootfs, { recursive: true, force: true });
  mkdirSync(o.workDir, { recursive: true });
  try {
    o.onStep?.(`debootstrap --variant=minbase --include=python3,python3-venv ${SUITE} from ${mirror} (about a minute)`);
    const step = await runStep(debootstrap, ['--variant=minbase', '--include=python3,python3-venv', SUITE, rootfs, mirror], { log: o.log, env: o.env, cwd: o.workDir, timeoutMs: DEBOOTSTRAP_TIMEOUT_MS, signal: o.signal });
    o.signal.throwIfAborted();
    if (step.code !== 0) {
      const lines = step.output.split('\n').map((l) => l.trimEnd()).filter((l) => l !== '');
      const last = [...lines].reverse().find((l) => /^E: |error|fail/i.test(l)) ?? lines.at(-1) ?? `exited with code ${step.code ?? step.signal}`;
      throw baseFailed('debootstrap', last, tail(lines));
    }
    o.onStep?.('trimming documentation, locales and apt lists');
    for (const dir of TRIM) emptyDir(join(rootfs, dir));
    mkdirSync(join(rootfs, 'var/lib/apt/lists/partial'), { recursive: true });
    mkdirSync(join(rootfs, 'var/cache/apt/archives/partial'), { recursive: true });
    o.onStep?.(`importing the root file system as ${BASE_IMAGE}`);
    const image = await importRootfs(conn, rootfs, o);
    return { tag: BASE_IMAGE, id: image.id, size: image.size, skipped: false, mirror, ms: performance.now() - started };
  } finally {
    rmSync(rootfs, { recursive: true, force: true });
  }
}

/** `tar -c` of the root file system (devices, owners and links kept), streamed into POST /images/create?fromSrc=-. */
async function importRootfs(conn: DockerConnection, rootfs: string, o: BaseBuildOptions): Promise<LocalImage> {
  const docker = await conn.get();
  const tar = spawn('tar', ['-C', rootfs, '--numeric-owner', '-c', '.'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let tarError = '';
  tar.stderr.on('data', (d: Buffer) => (tarError += d.toString()));
  const tarDone = new Promise<number | null>((resolve) => tar.on('close', resolve));
  const [repo, tag] = BASE_IMAGE.split(':') as [string, string];
  const changes = ['ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'ENV LANG=C.UTF-8', 'CMD ["python3"]'];
  let result: { error?: string };
  try {
    const stream = await docker.importImage(tar.stdout, { repo, tag, changes, abortSignal: o.signal });
    result = await readProgress(stream, (line) => {
      if (line.status !== undefined) o.onStep?.(`import: ${line.status}`);
    });
  } catch (err) {
    tar.kill();
    throw baseFailed('docker import', describe(conn.wrap(err)), '');
  }
  const code = await tarDone;
  if (code !== 0) throw baseFailed('tar of the root file system', `tar exited with code ${code}`, tail(tarError.split('\n').filter(Boolean)));
  if (result.error !== undefined) throw baseFailed('docker import', result.error, '');
  const image = await inspectImage(conn, BASE_IMAGE);
  if (image === undefined) throw baseFailed('docker import', 'the engine reported no error, but the image is not there', '');
  return image;
}

function baseFailed(step: string, reason: string, tailText: string): BerthError {
  return new BerthError('BASE_IMAGE_BUILD_FAILED', { image: BASE_IMAGE, step, reason, tail: tailText });
}

function emptyDir(dir: string): void {
  if (!existsSync(dir)) return;
  for (const name of readdirSync(dir)) rmSync(join(dir, name), { recursive: true, force: true });
}

function findDebootstrap(env: EnvSnapshot): string | undefined {
  const dirs = [...(env.PATH ?? '').split(':').filter(Boolean), '/usr/sbin', '/sbin'];
  return dirs.map((d) => join(d, 'debootstrap')).find((p) => existsSync(p));
}

function readSources(files: readonly string[] | undefined): string[] {
  const paths = files ?? [
    '/etc/apt/sources.list',
    ...(existsSync('/etc/apt/sources.list.d') ? readdirSync('/etc/apt/sources.list.d').filter((f) => /\.(sources|list)$/.test(f)).sort().map((f) => join('/etc/apt/sources.list.d', f)) : []),
  ];
  return paths.flatMap((p) => {
    try {
      return [readFileSync(p, 'utf8')];
    } catch {
      return [];
    }
  });
}

/**
 * The machine's Debian mirror from apt's sources, deb822 (`URIs:`/`Suites:`) or one-line (`deb URI suite …`): the first
 * that serves bookworm itself, else the first that is not a security or updates archive.
 */
export function aptMirror(texts: readonly string[]): string | undefined {
  const found: { uri: string; suites: string[] }[] = [];
  for (const text of texts) {
    for (const para of text.split(/\n\s*\n/)) {
      const field = (name: string): string | undefined => new RegExp(`^${name}:\\s*(.+)$`, 'mi').exec(para)?.[1]?.trim();
      const types = field('Types');
      const uris = field('URIs');
      if (types !== undefined && uris !== undefined && /\bdeb\b/.test(types) && field('Enabled') !== 'no') {
        for (const uri of uris.split(/\s+/)) found.push({ uri, suites: (field('Suites') ?? '').split(/\s+/) });
      }
    }
    for (const line of text.split('\n')) {
      const m = /^\s*deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)/.exec(line);
      if (m !== null) found.push({ uri: m[1]!, suites: [m[2]!] });
    }
  }
  const web = found.filter((f) => /^https?:\/\//.test(f.uri));
  const pick = web.find((f) => f.suites.includes(SUITE)) ?? web.find((f) => !/security|updates/.test(f.uri) && !f.suites.some((s) => /security|updates/.test(s)));
  return pick?.uri.replace(/\/+$/, '');
}

/** Asks an image for its python3: path, version and machine, by running it once (a second or so). */
export async function probePython(conn: DockerConnection, image: string): Promise<PythonTarget> {
  const docker = await conn.get();
  const code = 'import json, platform, sys; print(json.dumps({"python": sys.executable, "version": platform.python_version(), "machine": platform.machine()}))';
  const container = await docker.createContainer({ Image: image, Cmd: ['python3', '-c', code], Tty: true, Labels: { 'berth.probe': '1' }, HostConfig: { NetworkMode: 'none' } }).catch((err: unknown) => {
    throw conn.wrap(err);
  });
  try {
    let failure: string | undefined;
    await container.start().catch((err: unknown) => {
      failure = describe(err);
    });
    const waited = failure === undefined ? ((await container.wait()) as { StatusCode?: number }) : { StatusCode: -1 };
    // docker-modem parses an answer that looks like JSON, so the logs come back as a Buffer, a string or the object itself.
    const raw: unknown = await container.logs({ stdout: true, stderr: true, follow: false });
    const out = Buffer.isBuffer(raw) ? raw.toString('utf8') : typeof raw === 'string' ? raw : JSON.stringify(raw);
    const parsed = /\{.*\}/.exec(out)?.[0];
    if (waited.StatusCode !== 0 || parsed === undefined) {
      throw new BerthError('IMAGE_BUILD_FAILED', { image, step: 'checking that the base image runs python3', reason: failure ?? out.trim().split('\n').at(-1) ?? `exit code ${waited.StatusCode}`, tail: '' });
    }
    return JSON.parse(parsed) as PythonTarget;
  } finally {
    await container.remove({ force: true }).catch(() => undefined);
  }
}
