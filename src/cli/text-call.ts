// One HTTP exchange with a text body over node:http(s): the CLI's JSON calls, without loading fetch's bundled client (about 30 ms of every command's start).
import type { IncomingHttpHeaders, RequestOptions } from 'node:http';

export interface TextReply {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly text: string;
}

/** Sends `body` (none: null) and reads the whole answer as UTF-8; rejects with the socket's error (its `code` set). */
export async function textCall(url: URL, method: string, headers: Readonly<Record<string, string>>, body: string | null): Promise<TextReply> {
  // https only for an https:// plane: loading TLS is not free either.
  const { request } = url.protocol === 'https:' ? await import('node:https') : await import('node:http');
  const options: RequestOptions = { method, headers: body === null ? headers : { ...headers, 'content-length': String(Buffer.byteLength(body)) } };
  return new Promise((resolve, reject) => {
    const req = request(url, options, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end(body ?? undefined);
  });
}
