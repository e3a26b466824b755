// What an API route is: method, OpenAPI-style path, zod schemas for its inputs, documented responses, and a handler.
import type { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import type { z } from 'zod';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface ResponseSpec {
  readonly description: string;
  /** JSON body schema; absent for bodiless (204) or non-JSON responses */
  readonly schema?: z.ZodType;
  /** non-JSON content type, e.g. application/octet-stream for a file */
  readonly contentType?: string;
}

export interface RouteInput<P, Q, B> {
  readonly params: P;
  readonly query: Q;
  readonly body: B;
  /** the raw request, for routes that stream their body (`rawBody`) */
  readonly req: IncomingMessage;
  readonly requestId: string;
}

export type Reply =
  | { readonly status: number; readonly json?: unknown }
  | { readonly status: number; readonly stream: Readable; readonly contentType: string; readonly headers?: Readonly<Record<string, string>> }
  /** A body already in memory (the gateway's replies, metrics text), sent with its length. */
  | { readonly status: number; readonly bytes: Buffer; readonly contentType: string; readonly headers?: Readonly<Record<string, string>> };

export interface RouteSpec<P, Q, B> {
  readonly method: HttpMethod;
  /** OpenAPI template, e.g. /v1/models/{name}/versions/{version}; a parameter matches one URL segment */
  readonly path: string;
  readonly operationId: string;
  readonly summary: string;
  readonly params?: z.ZodType<P>;
  readonly query?: z.ZodType<Q>;
  /** JSON request body (read whole, size-limited, validated) */
  readonly body?: z.ZodType<B>;
  /** a streamed, non-JSON request body the handler reads itself from `req` */
  readonly rawBody?: { readonly description: string; readonly headers?: Readonly<Record<string, string>> };
  readonly responses: Readonly<Record<number, ResponseSpec>>;
  handle(input: RouteInput<P, Q, B>): Reply | Promise<Reply>;
}

/** A route with its input types erased, as the router holds it. */
export type Route = RouteSpec<unknown, unknown, unknown>;

/** Declares a route; the handler's input types follow from its schemas. */
export function route<P = Record<string, never>, Q = Record<string, never>, B = undefined>(spec: RouteSpec<P, Q, B>): Route {
  // The router validates params, query and body with the spec's own schemas before calling handle, so the erasure is safe.
  return spec as unknown as Route;
}
