// Image work through the Engine API: build a generated context, inspect, pull, push and remove, each logged and failing with its own code.
import { appendFileSync } from 'node:fs';
import { BerthError } from '../errors/catalogue.js';
import { tail } from '../control/environments/python-build.js';

/** ANSI escape sequences (colours, cursor moves). */
const ANSI = /\u001b\[[0-9;?]*[ -\/]*[@-~]/g;
import { describe, readProgress, statusOf, type Docker, type DockerConnection, type ProgressLine } from './docker.js';
import type { EngineAuth } from './registry.js';
import { splitTag } from './tags.js';
import { tarStream, type TarEntry } from './tar.js';

export interface LocalImage {
  readonly id: string;
  readonly size: number;
  readonly repoDigests: readonly string[];
  readonly labels: Readonly<Record<string, string>>;
}

/** The image named `name` as the engine has it, or undefined when it has none. */
export async function inspectImage(conn: DockerConnection, name: string): Promise<LocalImage | undefined> {
  const docker = await conn.get();
  try {
    const info = await docker.getImage(name).inspect();
    return { id: info.Id, size: info.Size, repoDigests: info.RepoDigests ?? [], labels: info.Config?.Labels ?? {} };
  } catch (err) {
    if (statusOf(err) === 404) return undefined;
    throw conn.wrap(err);
  }
}

export interface BuildRequest {
  readonly tag: string;
  readonly dockerfile: string;
  /** The context's files; the Dockerfile is added in front. */
  readonly context: readonly TarEntry[];
  readonly labels: Readonly<Record<string, string>>;
  /** The build log: every line of the engine's output is appended. */
  readonly log: string;
  readonly signal: AbortSignal;
  readonly onLine?: (text: string) => void;
  /** Ignore the engine's build cache (benchmarks measuring cold builds). */
  readonly noCache?: boolean;
}

const TAIL_LINES = 15;

/**
 * Builds with the classic builder from a tar context. A failing step still answers HTTP 200, with an `error` line in the
 * stream: that becomes IMAGE_BUILD_FAILED naming the step (`Step 4/6 : RUN …`) and the step's last output lines.
 */
export async function buildImage(conn: DockerConnection, req: BuildRequest): Promise<LocalImage> {
  const docker = await conn.get();
  appendFileSync(req.log, `# Dockerfile\n${req.dockerfile}\n`);
  const context = tarStream([{ type: 'file', path: 'Dockerfile', mode: 0o644, data: Buffer.from(req.dockerfile) }, ...req.context]);
  let step = 'sending the build context';
  let stepLines: string[] = [];
  let stream: NodeJS.ReadableStream;
  try {
    stream = await docker.buildImage(context, { t: req.tag, dockerfile: 'Dockerfile', labels: { ...req.labels }, rm: true, forcerm: true, nocache: req.noCache === true, abortSignal: req.signal });
  } catch (err) {
    req.signal.throwIfAborted();
    const wrapped = conn.wrap(err);
    if (wrapped instanceof BerthError) throw wrapped;
    throw buildFailed(req.tag, step, describe(err), []);
  }
  let result: { error?: string };
  try {
    result = await readProgress(stream, (line: ProgressLine) => {
      const text = line.stream ?? (line.status === undefined ? '' : `${line.status}\n`);
      if (text === '') return;
      appendFileSync(req.log, text);
      // Terminal colour codes (a tool that colours its output even in a build) would garble the message and the tail.
      for (const l of text.replace(ANSI, '').split('\n').map((s) => s.trimEnd()).filter((s) => s !== '')) {
        const m = /^Step \d+\/\d+ : (.*)$/.exec(l);
        if (m !== null) {
          step = l;
          stepLines = [];
        } else if (!/^ ---> /.test(l)) {
          stepLines.push(l);
          if (stepLines.length > 200) stepLines = stepLines.slice(-TAIL_LINES);
        }
        req.onLine?.(l);
      }
    });
  } catch (err) {
    req.signal.throwIfAborted();
    throw buildFailed(req.tag, step, `the build stream broke off: ${describe(err)}`, stepLines);
  }
  if (result.error !== undefined) {
    appendFileSync(req.log, `ERROR: ${result.error}\n`);
    throw buildFailed(req.tag, step, result.error, stepLines);
  }
  const built = await inspectImage(conn, req.tag);
  if (built === undefined) throw buildFailed(req.tag, step, 'the engine reported no error, but the image is not there', stepLines);
  return built;
}

export function buildFailed(tag: string, step: string, reason: string, lines: readonly string[]): BerthError {
  return new BerthError('IMAGE_BUILD_FAILED', { image: tag, step, reason: reason.trim(), tail: tail(lines, TAIL_LINES) });
}

/**
 * One push or pull: its progress lines into the build log, each line also to `onLine`; a failure reported inside the
 * stream (the engine answers 200 and then an error line) or by the request is `fail(detail)`.
 */
async function transfer(conn: DockerConnection, what: string, log: string, signal: AbortSignal, fail: (detail: string) => BerthError,
  start: (docker: Docker) => Promise<NodeJS.ReadableStream>, onLine: (line: ProgressLine) => void = () => undefined): Promise<void> {
  const docker = await conn.get();
  appendFileSync(log, `# ${what}\n`);
  let result: { error?: string };
  try {
    result = await readProgress(await start(docker), (line) => {
      onLine(line);
      if (line.status !== undefined && line.progress === undefined) appendFileSync(log, `${line.id === undefined ? '' : `${line.id}: `}${line.status}\n`);
    });
  } catch (err) {
    signal.throwIfAborted();
    const wrapped = conn.wrap(err);
    if (wrapped instanceof BerthError) throw wrapped;
    throw fail(describe(err));
  }
  if (result.error !== undefined) {
    appendFileSync(log, `ERROR: ${result.error}\n`);
    throw fail(result.error);
  }
}

/** Pushes `repository:tag`; resolves with the manifest digest the registry stored. */
export async function pushImage(conn: DockerConnection, name: string, auth: EngineAuth | undefined, log: string, signal: AbortSignal): Promise<string> {
  const { repository, tag } = splitTag(name);
  const fail = (detail: string): BerthError => new BerthError('REGISTRY_PUSH_FAILED', { image: name, detail });
  let digest: string | undefined;
  await transfer(conn, `push ${name}`, log, signal, fail,
    (docker) => docker.getImage(repository).push({ tag, abortSignal: signal, ...(auth === undefined ? {} : { authconfig: auth }) }),
    (line) => {
      const d = line.aux?.Digest;
      if (typeof d === 'string') digest = d;
    });
  if (digest === undefined) throw fail('the engine did not report the pushed manifest\'s digest');
  return digest;
}

/** Pulls `repository:tag` (or `repository@digest`). */
export async function pullImage(conn: DockerConnection, name: string, auth: EngineAuth | undefined, log: string, signal: AbortSignal): Promise<void> {
  const at = name.indexOf('@');
  const { repository, tag } = at === -1 ? splitTag(name) : { repository: name.slice(0, at), tag: name.slice(at + 1) };
  const fail = (detail: string): BerthError => new BerthError('IMAGE_PULL_FAILED', { image: name, detail });
  await transfer(conn, `pull ${name}`, log, signal, fail, (docker) => docker.createImage(auth, { fromImage: repository, tag, abortSignal: signal }));
}

/** Removes a tag (the image goes with its last tag); true when it was there. */
export async function removeImage(conn: DockerConnection, name: string): Promise<boolean> {
  const docker = await conn.get();
  try {
    await docker.getImage(name).remove({ noprune: false });
    return true;
  } catch (err) {
    if (statusOf(err) === 404) return false;
    throw conn.wrap(err);
  }
}
