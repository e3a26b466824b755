// Writes build contexts as tar streams (ustar, PAX headers for long names), taking files from wherever they are on disk.
import { open } from 'node:fs/promises';
import { Readable } from 'node:stream';

export type TarEntry =
  | { readonly type: 'file'; readonly path: string; readonly mode: number; readonly mtimeMs?: number; readonly source: string; readonly size: number }
  | { readonly type: 'file'; readonly path: string; readonly mode: number; readonly mtimeMs?: number; readonly data: Buffer }
  | { readonly type: 'dir'; readonly path: string; readonly mode: number; readonly mtimeMs?: number }
  | { readonly type: 'symlink'; readonly path: string; readonly target: string; readonly mtimeMs?: number };

const BLOCK = 512;
const CHUNK = 1024 * 1024;

/** A tar stream of the entries, in order; file contents are read when the stream gets to them. */
export function tarStream(entries: Iterable<TarEntry> | AsyncIterable<TarEntry>): Readable {
  return Readable.from(generate(entries), { objectMode: false });
}

async function* generate(entries: Iterable<TarEntry> | AsyncIterable<TarEntry>): AsyncGenerator<Buffer> {
  for await (const e of entries) {
    const mtime = Math.floor((e.mtimeMs ?? 0) / 1000);
    if (e.type === 'dir') {
      yield* headers(e.path.endsWith('/') ? e.path : `${e.path}/`, 0, e.mode, mtime, '5', '');
    } else if (e.type === 'symlink') {
      yield* headers(e.path, 0, 0o777, mtime, '2', e.target);
    } else if ('data' in e) {
      yield* headers(e.path, e.data.length, e.mode, mtime, '0', '');
      yield e.data;
      yield padding(e.data.length);
    } else {
      yield* headers(e.path, e.size, e.mode, mtime, '0', '');
      yield* fileBody(e.source, e.size);
      yield padding(e.size);
    }
  }
  yield Buffer.alloc(BLOCK * 2);
}

/** Exactly `size` bytes of the file: a file that shrank since it was listed is padded, one that grew is cut. */
async function* fileBody(source: string, size: number): AsyncGenerator<Buffer> {
  const fh = await open(source, 'r');
  try {
    let left = size;
    while (left > 0) {
      const buf = Buffer.alloc(Math.min(CHUNK, left));
      const { bytesRead } = await fh.read(buf, 0, buf.length, size - left);
      if (bytesRead === 0) {
        yield Buffer.alloc(left);
        return;
      }
      left -= bytesRead;
      yield bytesRead === buf.length ? buf : buf.subarray(0, bytesRead);
    }
  } finally {
    await fh.close();
  }
}

function padding(size: number): Buffer {
  const rest = size % BLOCK;
  return Buffer.alloc(rest === 0 ? 0 : BLOCK - rest);
}

/** The entry's header, preceded by a PAX header when its name or link does not fit ustar's fields. */
function* headers(path: string, size: number, mode: number, mtime: number, type: string, link: string): Generator<Buffer> {
  const name = Buffer.from(path, 'utf8');
  const target = Buffer.from(link, 'utf8');
  const ascii = /^[\x20-\x7e]*$/;
  const needsPax = name.length > 100 || target.length > 100 || !ascii.test(path) || !ascii.test(link);
  if (needsPax) {
    const records = Buffer.concat([paxRecord('path', path), ...(link === '' ? [] : [paxRecord('linkpath', link)])]);
    yield header(`PaxHeader/${asciiCut(path, 80)}`, records.length, 0o644, mtime, 'x', '');
    yield records;
    yield padding(records.length);
  }
  yield header(needsPax ? asciiCut(path, 100) : path, size, mode, mtime, type, needsPax ? asciiCut(link, 100) : link);
}

/** `LEN key=value\n`, LEN counting its own digits. */
function paxRecord(key: string, value: string): Buffer {
  const body = ` ${key}=${value}\n`;
  const bodyLen = Buffer.byteLength(body);
  const digits = String(bodyLen).length;
  let len = bodyLen + digits;
  if (String(len).length !== digits) len = bodyLen + String(len).length; // 95 + 2 = 97, but 99 + 2 = 101 needs 3
  return Buffer.from(`${len}${body}`, 'utf8');
}

function asciiCut(text: string, max: number): string {
  return text.replace(/[^\x20-\x7e]/g, '_').slice(-max);
}

function header(name: string, size: number, mode: number, mtime: number, type: string, link: string): Buffer {
  const h = Buffer.alloc(BLOCK);
  h.write(name, 0, 100, 'utf8');
  octal(h, 100, 8, mode & 0o7777);
  octal(h, 108, 8, 0);
  octal(h, 116, 8, 0);
  octal(h, 124, 12, size);
  octal(h, 136, 12, Math.max(0, mtime));
  h.fill(0x20, 148, 156); // the checksum is computed with its own field as spaces
  h.write(type, 156, 1, 'ascii');
  h.write(link, 157, 100, 'utf8');
  h.write('ustar\u000000', 257, 8, 'ascii');
  h.write('root', 265, 32, 'ascii');
  h.write('root', 297, 32, 'ascii');
  let sum = 0;
  for (const byte of h) sum += byte;
  h.write(`${sum.toString(8).padStart(6, '0')}\u0000 `, 148, 8, 'ascii');
  return h;
}

function octal(h: Buffer, offset: number, width: number, value: number): void {
  const text = value.toString(8);
  if (text.length > width - 1) throw new Error(`tar: ${value} does not fit a ${width}-byte field`);
  h.write(`${text.padStart(width - 1, '0')}\u0000`, offset, width, 'ascii');
}
