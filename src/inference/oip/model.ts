// The model a berth server presents over the Open Inference Protocol: its name and version, the entry script's declared signature, metadata, and the checks a declaration implies.
import { z } from 'zod';
import { DATATYPES, type Datatype } from './datatypes.js';
import { TensorError, type InferRequest } from './tensor.js';
import type { EntryInfo } from '../runtime/types.js';

/** How the control plane tells a replica its model name (the service name): a variable, which an older berth in an image ignores, where a flag would stop it. */
export const MODEL_NAME_ENV = 'BERTH_MODEL_NAME';

/** A declared tensor: -1 marks a dimension of any size. */
export interface TensorSpec {
  readonly name: string;
  readonly datatype: Datatype;
  readonly shape: readonly number[];
}

/** What the entry script declares in `berth_signature`; a missing list means "not declared": anything goes. */
export interface Signature {
  readonly inputs?: readonly TensorSpec[];
  readonly outputs?: readonly TensorSpec[];
  readonly platform?: string;
}

const tensorSpec = z.strictObject({
  name: z.string().min(1),
  datatype: z.enum(DATATYPES),
  shape: z.array(z.number().int().min(-1)),
});
const signatureSchema = z.strictObject({
  inputs: z.array(tensorSpec).optional(),
  outputs: z.array(tensorSpec).optional(),
  platform: z.string().min(1).optional(),
});

/** The declaration checked, or the reason it is unusable (for OIP_SIGNATURE_INVALID). */
export function parseSignature(info: EntryInfo): { ok: true; signature: Signature } | { ok: false; detail: string } {
  if (info.signatureError !== undefined) return { ok: false, detail: info.signatureError };
  if (info.signature === undefined) return { ok: true, signature: {} };
  const parsed = signatureSchema.safeParse(info.signature);
  if (parsed.success) {
    for (const list of [parsed.data.inputs, parsed.data.outputs]) {
      const names = (list ?? []).map((t) => t.name);
      const twice = names.find((n, i) => names.indexOf(n) !== i);
      if (twice !== undefined) return { ok: false, detail: `the tensor name "${twice}" is declared twice` };
    }
    return { ok: true, signature: parsed.data };
  }
  const issue = parsed.error.issues[0];
  return { ok: false, detail: `${issue?.path.join('.') || 'berth_signature'}: ${issue?.message ?? 'invalid'}` };
}

/** Who the server is over the protocol: the model name (`--model-name`; the service name behind the gateway) and its optional version. */
export interface ModelIdentity {
  readonly name: string;
  readonly version?: string;
  readonly runtime: 'python' | 'js';
}

export interface ModelMetadata {
  readonly name: string;
  readonly versions?: readonly string[];
  readonly platform: string;
  readonly inputs: readonly TensorSpec[];
  readonly outputs: readonly TensorSpec[];
}

/** The output of run() as berth maps it back (docs/oip-v2.md). */
export const RUN_OUTPUT = 'output-0';

/**
 * Metadata as the protocol reports it. Without a declaration berth lists no tensors rather than guess names or
 * datatypes it cannot know (an undecorated run() takes any one input, of any datatype).
 */
export function modelMetadata(model: ModelIdentity, signature: Signature): ModelMetadata {
  return {
    name: model.name,
    ...(model.version === undefined ? {} : { versions: [model.version] }),
    platform: signature.platform ?? `berth_${model.runtime}`,
    inputs: signature.inputs ?? [],
    outputs: signature.outputs ?? [],
  };
}

/** A declared signature's checks on a request: the declared inputs, each of its datatype and shape; requested outputs that exist. */
export function checkAgainstSignature(request: InferRequest, signature: Signature): void {
  if (signature.inputs !== undefined) {
    const declared = new Map(signature.inputs.map((t) => [t.name, t]));
    for (const input of request.inputs) {
      const spec = declared.get(input.name);
      if (spec === undefined) throw new TensorError(`unexpected input "${input.name}": the model takes ${names(signature.inputs)}`);
      if (input.datatype !== spec.datatype) throw new TensorError(`input "${input.name}": datatype ${input.datatype} does not match the model's ${spec.datatype}`);
      if (!shapeMatches(input.shape, spec.shape)) throw new TensorError(`input "${input.name}": shape [${input.shape.join(', ')}] does not match the model's [${spec.shape.join(', ')}]`);
    }
    const missing = signature.inputs.filter((t) => !request.inputs.some((i) => i.name === t.name));
    if (missing.length > 0) throw new TensorError(`missing input${missing.length === 1 ? '' : 's'} ${names(missing)}`);
  }
  if (signature.outputs !== undefined) {
    for (const o of request.outputs ?? []) {
      if (!signature.outputs.some((t) => t.name === o.name)) throw new TensorError(`unknown output "${o.name}" requested: the model produces ${names(signature.outputs)}`);
    }
  }
}

/** Whether a shape fits a declared one, where -1 takes any size. */
export function shapeMatches(given: readonly number[], declared: readonly number[]): boolean {
  return given.length === declared.length && declared.every((d, i) => d === -1 || d === given[i]);
}

function names(list: readonly TensorSpec[]): string {
  return list.length === 0 ? 'none' : list.map((t) => `"${t.name}"`).join(', ');
}
