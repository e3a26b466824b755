// The JSON tensor codec of the Open Inference Protocol: parsing and checking an infer request, nesting and flattening data, tensors from plain values.
import { z } from 'zod';
import { datatypeOfValues, elementProblem, isDatatype, DATATYPES, type Datatype, type Element } from './datatypes.js';

/** A request or response parameter: the protocol allows strings, numbers and booleans. */
export type Parameters = Readonly<Record<string, string | number | boolean>>;

/** One tensor with its data flattened row-major. */
export interface Tensor {
  readonly name: string;
  readonly datatype: Datatype;
  readonly shape: readonly number[];
  readonly data: readonly Element[];
  readonly parameters?: Parameters;
}

export interface RequestedOutput {
  readonly name: string;
  readonly parameters?: Parameters;
}

/** An infer request whose inputs all passed the shape and datatype checks. */
export interface InferRequest {
  readonly id?: string;
  readonly parameters?: Parameters;
  readonly inputs: readonly Tensor[];
  readonly outputs?: readonly RequestedOutput[];
}

/** A request the protocol's 400 answers; `detail` says what is wrong and where. */
export class TensorError extends Error {
  constructor(readonly detail: string) {
    super(detail);
    this.name = 'TensorError';
  }
}

const parameters = z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]));
const dim = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const requestInput = z.strictObject({
  name: z.string().min(1),
  shape: z.array(dim),
  datatype: z.string(),
  parameters: parameters.optional(),
  // Absent only when the binary tensor data extension carries the data (parameters.binary_data_size).
  data: z.array(z.unknown()).optional(),
});
const requestSchema = z.strictObject({
  id: z.string().optional(),
  parameters: parameters.optional(),
  inputs: z.array(requestInput).min(1, 'an infer request needs at least one input'),
  outputs: z.array(z.strictObject({ name: z.string().min(1), parameters: parameters.optional() })).optional(),
});
export type RawInferRequest = z.infer<typeof requestSchema>;
export type RawInput = z.infer<typeof requestInput>;

/** Parses the request's JSON object; `binaryData` decodes inputs that arrive as binary data (the extension) instead of `data`. */
export function parseInferRequest(json: unknown, binaryData?: (input: RawInput, index: number) => readonly Element[] | undefined): InferRequest {
  const parsed = requestSchema.safeParse(json);
  if (!parsed.success) throw new TensorError(describeIssue(parsed.error.issues[0]));
  const raw = parsed.data;
  const seen = new Set<string>();
  const inputs = raw.inputs.map((input, i) => {
    if (seen.has(input.name)) throw new TensorError(`input "${input.name}" is given twice`);
    seen.add(input.name);
    if (!isDatatype(input.datatype)) throw new TensorError(`input "${input.name}": unknown datatype "${input.datatype}"; the datatypes are ${DATATYPES.join(', ')}`);
    const fromBinary = binaryData?.(input, i);
    if (fromBinary === undefined && input.data === undefined) throw new TensorError(`input "${input.name}" has no data`);
    return checkedTensor(`input "${input.name}"`, { name: input.name, datatype: input.datatype, shape: input.shape, data: fromBinary ?? flatten(input.data!), ...(input.parameters === undefined ? {} : { parameters: input.parameters }) });
  });
  const outputNames = new Set<string>();
  for (const o of raw.outputs ?? []) {
    if (outputNames.has(o.name)) throw new TensorError(`output "${o.name}" is requested twice`);
    outputNames.add(o.name);
  }
  return {
    ...(raw.id === undefined ? {} : { id: raw.id }),
    ...(raw.parameters === undefined ? {} : { parameters: raw.parameters }),
    inputs,
    ...(raw.outputs === undefined ? {} : { outputs: raw.outputs }),
  };
}

/** Checks that a tensor's data fits its shape (element count) and datatype (each element); `what` names it in the message. */
export function checkedTensor(what: string, t: { name: string; datatype: Datatype; shape: readonly number[]; data: readonly unknown[]; parameters?: Parameters }): Tensor {
  const expected = elementCount(t.shape);
  if (t.data.length !== expected) {
    throw new TensorError(`${what}: shape [${t.shape.join(', ')}] holds ${expected} element${expected === 1 ? '' : 's'}, but the data has ${t.data.length}`);
  }
  for (let i = 0; i < t.data.length; i++) {
    const problem = elementProblem(t.datatype, t.data[i]);
    if (problem !== undefined) throw new TensorError(`${what}: element ${i} (row-major) does not fit ${t.datatype}: ${problem}`);
  }
  return t as Tensor;
}

export function elementCount(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Nested arrays to one row-major list, whatever the nesting: the protocol accepts data nested or flat. */
export function flatten(data: readonly unknown[]): unknown[] {
  if (!data.some(Array.isArray)) return data as unknown[];
  const out: unknown[] = [];
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) for (const x of v) walk(x);
    else out.push(v);
  };
  walk(data);
  return out;
}

/** Row-major flat data to nested lists of `shape`; shape [] gives the one element itself. */
export function nest(data: readonly Element[], shape: readonly number[]): unknown {
  if (shape.length === 0) return data[0];
  let offset = 0;
  const build = (axis: number): unknown[] => {
    const n = shape[axis]!;
    const out: unknown[] = new Array<unknown>(n);
    for (let i = 0; i < n; i++) out[i] = axis === shape.length - 1 ? data[offset++] : build(axis + 1);
    return out;
  };
  return build(0);
}

/** The shape of a rectangular nesting of arrays and its flat elements; undefined when it is ragged. A scalar is shape [1]. */
export function shapeOf(value: unknown): { shape: number[]; flat: unknown[] } | undefined {
  if (!Array.isArray(value)) return { shape: [1], flat: [value] };
  const shape: number[] = [];
  for (let level: unknown = value; Array.isArray(level); level = level[0]) shape.push(level.length);
  const flat: unknown[] = [];
  const walk = (v: unknown, axis: number): boolean => {
    if (axis === shape.length) {
      if (Array.isArray(v)) return false;
      flat.push(v);
      return true;
    }
    if (!Array.isArray(v) || v.length !== shape[axis]) return false;
    for (const x of v) if (!walk(x, axis + 1)) return false;
    return true;
  };
  return walk(value, 0) ? { shape, flat } : undefined;
}

/**
 * A tensor from a plain value (a number, a list of lists, …): shape from the nesting, datatype from the elements
 * (see datatypeOfValues) unless `datatype` is given. Undefined when the value is no tensor (ragged, mixed, an object).
 */
export function tensorFromValue(name: string, value: unknown, datatype?: Datatype): Tensor | undefined {
  const s = shapeOf(value);
  if (s === undefined) return undefined;
  const dt = datatype ?? datatypeOfValues(s.flat);
  if (dt === undefined) return undefined;
  if (s.flat.some((v) => elementProblem(dt, v) !== undefined)) return undefined;
  return { name, datatype: dt, shape: s.shape, data: s.flat as Element[] };
}

function describeIssue(issue: z.core.$ZodIssue | undefined): string {
  if (issue === undefined) return 'the body is not an infer request';
  const at = issue.path.length === 0 ? 'the request' : issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('').replace(/^\./, '');
  if (issue.code === 'unrecognized_keys') return `${at}: unknown field${issue.keys.length === 1 ? '' : 's'} ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
  return `${at}: ${issue.message}`;
}
