// Between protocol tensors and the entry script: the infer() request a worker gets, the outputs it returns, and the run() fallback both ways.
import { isDatatype } from './datatypes.js';
import { RUN_OUTPUT, shapeMatches, type ModelIdentity, type TensorSpec } from './model.js';
import { checkedTensor, flatten, nest, tensorFromValue, TensorError, type InferRequest, type Parameters, type Tensor } from './tensor.js';

/** The entry script returned something berth cannot send as tensors (a 500: the script's fault, not the client's). */
export class OutputError extends Error {
  constructor(readonly detail: string) {
    super(detail);
    this.name = 'OutputError';
  }
}

/**
 * The body a worker's infer() call gets (the runtimes decode it): inputs flat with shape and datatype, so a worker
 * reshapes without checking; `bytes_b64` marks BYTES inputs whose elements are base64 (raw bytes from the binary extension).
 */
export function workerInferBody(request: InferRequest, requestId: string, rawBytes: ReadonlySet<string> = new Set()): string {
  return JSON.stringify({
    id: request.id ?? requestId,
    parameters: request.parameters ?? {},
    inputs: request.inputs.map((t) => ({
      name: t.name, datatype: t.datatype, shape: t.shape, data: t.data, parameters: t.parameters ?? {},
      ...(rawBytes.has(t.name) ? { bytes_b64: true } : {}),
    })),
    outputs: request.outputs === undefined ? null : request.outputs.map((o) => o.name),
  });
}

/**
 * What a worker answers for infer(): `{"outputs": [{name, data, datatype?, shape?, parameters?}]}` (see the runtimes),
 * or `{"output_error": why}`. An output the signature declares takes its declared datatype when it brings none
 * (plain lists), and must then match the declaration.
 */
export function outputsFromWorker(body: Buffer | string, declared: readonly TensorSpec[] = [], fn = 'infer()'): Tensor[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(typeof body === 'string' ? body : body.toString('utf8'));
  } catch (err) {
    throw new OutputError(`the worker's answer is not JSON: ${(err as Error).message}`);
  }
  const problem = (parsed as { output_error?: unknown } | null)?.output_error;
  if (typeof problem === 'string') throw new OutputError(problem);
  const outputs = (parsed as { outputs?: unknown } | null)?.outputs;
  if (!Array.isArray(outputs)) throw new OutputError(`${fn} must return a dict of outputs (name → array) or a list of output dicts`);
  const seen = new Set<string>();
  return outputs.map((o: unknown, i) => {
    const spec = declared.find((d) => d.name === (o as { name?: unknown } | null)?.name);
    const t = finishOutput(spec === undefined || (o as { datatype?: unknown }).datatype !== undefined ? o : { ...(o as object), datatype: spec.datatype }, i, fn);
    if (spec !== undefined && t.datatype !== spec.datatype) throw new OutputError(`${fn} returned output "${t.name}" as ${t.datatype}, but berth_signature declares ${spec.datatype}`);
    if (spec !== undefined && !shapeMatches(t.shape, spec.shape)) throw new OutputError(`${fn} returned output "${t.name}" of shape [${t.shape.join(', ')}], but berth_signature declares [${spec.shape.join(', ')}]`);
    if (seen.has(t.name)) throw new OutputError(`${fn} returned the output "${t.name}" twice`);
    seen.add(t.name);
    return t;
  });
}

/** One returned output: given datatype and shape are checked against its data; missing ones come from the data itself. */
function finishOutput(o: unknown, index: number, fn: string): Tensor {
  if (typeof o !== 'object' || o === null || Array.isArray(o)) throw new OutputError(`${fn} output ${index} is not a dict with "name" and "data"`);
  const { name, datatype, shape, data, parameters } = o as Record<string, unknown>;
  if (typeof name !== 'string' || name === '') throw new OutputError(`${fn} output ${index} has no "name"`);
  if (data === undefined) throw new OutputError(`${fn} output "${name}" has no "data"`);
  if (datatype !== undefined && !isDatatype(datatype)) throw new OutputError(`${fn} output "${name}": unknown datatype ${JSON.stringify(datatype)}`);
  const params = parameters === undefined || parameters === null ? {} : { parameters: parameters as Parameters };
  try {
    if (Array.isArray(shape)) {
      if (!shape.every((d) => Number.isInteger(d) && d >= 0)) throw new TensorError(`output "${name}": shape ${JSON.stringify(shape)} is not a list of sizes`);
      const flat = Array.isArray(data) ? flatten(data) : [data];
      const dt = datatype ?? tensorFromValue(name, flat)?.datatype;
      if (dt === undefined) throw new TensorError(`output "${name}": its elements are of mixed or unsupported types`);
      return checkedTensor(`output "${name}"`, { name, datatype: dt, shape: shape as number[], data: flat, ...params });
    }
    const t = tensorFromValue(name, data, datatype);
    if (t === undefined) {
      throw new TensorError(`output "${name}" is not a tensor: ${datatype === undefined ? 'a rectangular list of numbers, booleans or strings is needed' : `its data is ragged or does not fit ${datatype}`}`);
    }
    return { ...t, ...params };
  } catch (err) {
    if (err instanceof TensorError) throw new OutputError(`${fn} returned ${err.detail}`);
    throw err;
  }
}

/** The run() fallback's input: the one input tensor, nested to its shape, as the classic `{"data": ...}` JSON. */
export function runInputBody(request: InferRequest): string {
  if (request.inputs.length !== 1) {
    throw new TensorError(`the entry script defines no infer(), so it takes exactly one input (passed to run() as {"data": ...}); this request has ${request.inputs.length}`);
  }
  const requested = (request.outputs ?? []).find((o) => o.name !== RUN_OUTPUT);
  if (requested !== undefined) throw new TensorError(`unknown output "${requested.name}" requested: run()'s result is the one output "${RUN_OUTPUT}"`);
  const input = request.inputs[0]!;
  return JSON.stringify({ data: nest(input.data, input.shape) });
}

/**
 * run()'s answer as the one output tensor `output-0`. A JSON array or scalar of numbers, booleans or strings keeps its
 * shape (a scalar is [1]) and gets a datatype from its elements; anything else (an object, null, a ragged or mixed
 * list, a non-JSON body) is one BYTES element holding the body's text.
 */
export function outputFromRun(contentType: string, body: Buffer | string): Tensor {
  const text = typeof body === 'string' ? body : body.toString('utf8');
  if (/^application\/(?:[\w.+-]*\+)?json\b/i.test(contentType)) {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      value = undefined;
    }
    const t = value === undefined || value === null ? undefined : tensorFromValue(RUN_OUTPUT, value);
    if (t !== undefined) return t;
  }
  return { name: RUN_OUTPUT, datatype: 'BYTES', shape: [1], data: [text] };
}

/** The protocol's response object: the outputs asked for (all when none was), in the order asked. */
export function inferResponse(model: ModelIdentity, id: string, outputs: readonly Tensor[], requested: InferRequest['outputs']): { model_name: string; model_version?: string; id: string; outputs: Tensor[] } {
  let chosen = outputs as Tensor[];
  if (requested !== undefined && requested.length > 0) {
    chosen = requested.map((r) => {
      const t = outputs.find((o) => o.name === r.name);
      if (t === undefined) throw new TensorError(`unknown output "${r.name}" requested: the model produced ${outputs.map((o) => `"${o.name}"`).join(', ') || 'none'}`);
      return t;
    });
  }
  return { model_name: model.name, ...(model.version === undefined ? {} : { model_version: model.version }), id, outputs: chosen };
}
