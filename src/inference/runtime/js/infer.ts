// A JS entry script's infer(request) for the Open Inference Protocol: decoded inputs in, outputs back in the form every runtime replies with.
import type { EntryInfo, ScoreOutcome } from '../types.js';
import { nest } from '../../oip/tensor.js';
import type { Element } from '../../oip/datatypes.js';

export type InferFunction = (request: JsInferRequest) => unknown;

/** What infer() receives (docs/oip-v2.md): inputs nested to their shapes, keyed by name; BYTES from binary data as Buffers. */
export interface JsInferRequest {
  readonly id: string;
  readonly parameters: Readonly<Record<string, unknown>>;
  readonly inputs: Record<string, unknown>;
  readonly datatypes: Record<string, string>;
  readonly input_parameters: Record<string, unknown>;
  /** The output names asked for, or null for all. */
  readonly outputs: readonly string[] | null;
}

interface WireInput {
  name: string;
  datatype: string;
  shape: number[];
  data: Element[];
  parameters: Record<string, unknown>;
  bytes_b64?: boolean;
}

const JSON_HEADERS: Readonly<Record<string, string>> = Object.freeze({ 'content-type': 'application/json' });

/** The EntryInfo of a loaded module: whether it exports infer(), and its berth_signature. */
export function jsEntryInfo(mod: { infer?: unknown; berth_signature?: unknown }): EntryInfo {
  let signature: unknown;
  try {
    signature = mod.berth_signature === undefined ? undefined : (JSON.parse(JSON.stringify(mod.berth_signature)) as unknown);
  } catch (err) {
    return { infer: typeof mod.infer === 'function', signatureError: `berth_signature is not plain JSON data: ${(err as Error).message}` };
  }
  return { infer: typeof mod.infer === 'function', ...(signature === undefined ? {} : { signature }) };
}

/** Runs infer() on berth's decoded request body; never throws (an exception is a run_error outcome). */
export function runInfer(infer: InferFunction, body: Buffer, workerId: number): ScoreOutcome | Promise<ScoreOutcome> {
  const started = performance.now();
  let result: unknown;
  try {
    result = infer(decodeRequest(body));
  } catch (err) {
    return inferError(err, performance.now() - started, workerId);
  }
  if (typeof (result as PromiseLike<unknown> | null)?.then !== 'function') return { kind: 'ok', status: 200, headers: JSON_HEADERS, body: encodeOutputs(result), workerId, execMs: performance.now() - started };
  return Promise.resolve(result).then(
    (settled): ScoreOutcome => ({ kind: 'ok', status: 200, headers: JSON_HEADERS, body: encodeOutputs(settled), workerId, execMs: performance.now() - started }),
    (err: unknown) => inferError(err, performance.now() - started, workerId),
  );
}

function decodeRequest(body: Buffer): JsInferRequest {
  const req = JSON.parse(body.toString('utf8')) as { id: string; parameters: Record<string, unknown>; inputs: WireInput[]; outputs: string[] | null };
  const inputs: Record<string, unknown> = {};
  const datatypes: Record<string, string> = {};
  const inputParameters: Record<string, unknown> = {};
  for (const t of req.inputs) {
    const data = t.bytes_b64 === true ? t.data.map((s) => Buffer.from(String(s), 'base64')) : t.data;
    inputs[t.name] = nest(data as Element[], t.shape);
    datatypes[t.name] = t.datatype;
    inputParameters[t.name] = t.parameters;
  }
  return { id: req.id, parameters: req.parameters, inputs, datatypes, input_parameters: inputParameters, outputs: req.outputs };
}

const TYPED: ReadonlyArray<readonly [new (...args: never[]) => ArrayBufferView, string]> = [
  [Float32Array, 'FP32'], [Float64Array, 'FP64'], [Int8Array, 'INT8'], [Int16Array, 'INT16'], [Int32Array, 'INT32'],
  [Uint8Array, 'UINT8'], [Uint8ClampedArray, 'UINT8'], [Uint16Array, 'UINT16'], [Uint32Array, 'UINT32'],
  [BigInt64Array, 'INT64'], [BigUint64Array, 'UINT64'],
];

/** `{"outputs": [...]}` (the server works out missing shapes and datatypes), or `{"output_error": why}`. */
export function encodeOutputs(result: unknown): string {
  let items: Array<Record<string, unknown>>;
  if (Array.isArray(result) && result.every((o) => typeof o === 'object' && o !== null && !Array.isArray(o))) items = result as Array<Record<string, unknown>>;
  else if (typeof result === 'object' && result !== null && !Array.isArray(result) && !ArrayBuffer.isView(result)) items = Object.entries(result).map(([name, data]) => ({ name, data }));
  else return JSON.stringify({ output_error: 'infer() must return an object of outputs (name → array) or an array of output objects' });
  try {
    return JSON.stringify({ outputs: items.map(wireOutput) });
  } catch (err) {
    return JSON.stringify({ output_error: (err as Error).message });
  }
}

function wireOutput(o: Record<string, unknown>): Record<string, unknown> {
  const data = o.data;
  if (ArrayBuffer.isView(data) && !(data instanceof DataView)) {
    const datatype = TYPED.find(([ctor]) => data instanceof ctor)?.[1];
    const values = Array.from(data as unknown as ArrayLike<number | bigint>, Number);
    return { datatype, shape: [values.length], ...o, data: values };
  }
  return { ...o, data: plain(data) };
}

/** Buffers as UTF-8 text, typed arrays as lists, at any depth. */
function plain(v: unknown): unknown {
  if (Buffer.isBuffer(v)) return v.toString('utf8');
  if (Array.isArray(v)) return v.map(plain);
  if (ArrayBuffer.isView(v) && !(v instanceof DataView)) return Array.from(v as unknown as ArrayLike<number | bigint>, Number);
  if (typeof v === 'bigint') return Number(v);
  return v;
}

function inferError(err: unknown, execMs: number, workerId: number): ScoreOutcome {
  const e = err instanceof Error ? err : new Error(String(err));
  return { kind: 'run_error', exception: e.name, message: e.message, traceback: e.stack ?? e.message, workerId, execMs };
}
