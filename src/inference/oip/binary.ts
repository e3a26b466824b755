// The binary tensor data extension (Triton's, adopted by KServe): tensors as little-endian bytes after the JSON object, its length in Inference-Header-Content-Length.
import { ELEMENT_BYTES, type Datatype, type Element } from './datatypes.js';
import { TensorError, type InferRequest, type RawInput, type Tensor } from './tensor.js';

export const HEADER_LENGTH = 'inference-header-content-length';

/** Splits a request body into its JSON object and the binary data after it. */
export function splitBody(body: Buffer, headerLength: string): { json: Buffer; binary: Buffer } {
  const n = Number(headerLength);
  if (!Number.isSafeInteger(n) || n < 0 || n > body.length) {
    throw new TensorError(`the ${HEADER_LENGTH} header (${headerLength}) is not a length within the body's ${body.length} bytes`);
  }
  return { json: body.subarray(0, n), binary: body.subarray(n) };
}

/**
 * Reads the inputs that carry `parameters.binary_data_size` from `binary`, in order. BYTES elements become base64 text
 * and their input's name joins `rawBytes`: the runtimes hand them to the script as bytes.
 */
export class BinaryInputs {
  private offset = 0;
  readonly rawBytes = new Set<string>();

  constructor(private readonly binary: Buffer) {}

  read = (input: RawInput): readonly Element[] | undefined => {
    const size = input.parameters?.binary_data_size;
    if (size === undefined) return undefined;
    const what = `input "${input.name}"`;
    if (input.data !== undefined) throw new TensorError(`${what} has both data and binary_data_size`);
    if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) throw new TensorError(`${what}: binary_data_size must be a byte count`);
    if (this.offset + size > this.binary.length) throw new TensorError(`${what}: binary_data_size ${size} runs past the end of the body's binary data`);
    const bytes = this.binary.subarray(this.offset, this.offset + size);
    this.offset += size;
    if (input.datatype === 'BYTES') {
      this.rawBytes.add(input.name);
      return readBytesElements(bytes, what).map((b) => b.toString('base64'));
    }
    const width = ELEMENT_BYTES[input.datatype as Exclude<Datatype, 'BYTES'>];
    if (width === undefined) return undefined; // an unknown datatype: parseInferRequest reports it
    if (size % width !== 0) throw new TensorError(`${what}: binary_data_size ${size} is not a whole number of ${input.datatype} elements (${width} bytes each)`);
    const out: Element[] = new Array<Element>(size / width);
    for (let i = 0; i < out.length; i++) out[i] = readElement(bytes, i * width, input.datatype as Exclude<Datatype, 'BYTES'>);
    return out;
  };

  /** Binary data no input claimed is a client error too. */
  finish(): void {
    if (this.offset !== this.binary.length) throw new TensorError(`the body has ${this.binary.length - this.offset} bytes of binary data that no input's binary_data_size claims`);
  }
}

function readBytesElements(bytes: Buffer, what: string): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0; at < bytes.length;) {
    if (at + 4 > bytes.length) throw new TensorError(`${what}: a BYTES element's 4-byte length is cut off`);
    const n = bytes.readUInt32LE(at);
    if (at + 4 + n > bytes.length) throw new TensorError(`${what}: a BYTES element of ${n} bytes runs past its binary_data_size`);
    out.push(bytes.subarray(at + 4, at + 4 + n));
    at += 4 + n;
  }
  return out;
}

function readElement(b: Buffer, at: number, dt: Exclude<Datatype, 'BYTES'>): Element {
  switch (dt) {
    case 'BOOL': return b[at] !== 0;
    case 'UINT8': return b.readUInt8(at);
    case 'UINT16': return b.readUInt16LE(at);
    case 'UINT32': return b.readUInt32LE(at);
    case 'UINT64': return Number(b.readBigUInt64LE(at));
    case 'INT8': return b.readInt8(at);
    case 'INT16': return b.readInt16LE(at);
    case 'INT32': return b.readInt32LE(at);
    case 'INT64': return Number(b.readBigInt64LE(at));
    case 'FP16': return halfToNumber(b.readUInt16LE(at));
    case 'FP32': return b.readFloatLE(at);
    case 'FP64': return b.readDoubleLE(at);
  }
}

/** Which outputs go back as binary: all with the request's binary_data_output, else those asked for with binary_data. */
export function binaryOutputNames(request: InferRequest): (name: string) => boolean {
  const all = request.parameters?.binary_data_output === true;
  const asked = new Map((request.outputs ?? []).map((o) => [o.name, o.parameters?.binary_data]));
  return (name) => {
    const own = asked.get(name);
    return own === undefined ? all : own === true;
  };
}

/** The response's JSON object with the chosen outputs' data moved after it as bytes; undefined when no output is binary. */
export function encodeBinaryResponse(response: { outputs: readonly Tensor[] }, binary: (name: string) => boolean): { body: Buffer; headerLength: number } | undefined {
  if (!response.outputs.some((o) => binary(o.name))) return undefined;
  const chunks: Buffer[] = [];
  const outputs = response.outputs.map((o) => {
    if (!binary(o.name)) return o;
    const bytes = encodeTensor(o);
    chunks.push(bytes);
    const { data: _data, ...rest } = o;
    return { ...rest, parameters: { ...o.parameters, binary_data_size: bytes.length } };
  });
  const json = Buffer.from(JSON.stringify({ ...response, outputs }));
  return { body: Buffer.concat([json, ...chunks]), headerLength: json.length };
}

function encodeTensor(t: Tensor): Buffer {
  if (t.datatype === 'BYTES') {
    const parts: Buffer[] = [];
    for (const e of t.data) {
      const bytes = Buffer.from(String(e), 'utf8');
      const len = Buffer.alloc(4);
      len.writeUInt32LE(bytes.length);
      parts.push(len, bytes);
    }
    return Buffer.concat(parts);
  }
  const width = ELEMENT_BYTES[t.datatype];
  const b = Buffer.alloc(width * t.data.length);
  t.data.forEach((e, i) => writeElement(b, i * width, t.datatype as Exclude<Datatype, 'BYTES'>, e));
  return b;
}

function writeElement(b: Buffer, at: number, dt: Exclude<Datatype, 'BYTES'>, e: Element): void {
  const v = Number(e);
  switch (dt) {
    case 'BOOL': b[at] = e === true ? 1 : 0; return;
    case 'UINT8': b.writeUInt8(v, at); return;
    case 'UINT16': b.writeUInt16LE(v, at); return;
    case 'UINT32': b.writeUInt32LE(v, at); return;
    case 'UINT64': b.writeBigUInt64LE(BigInt(v), at); return;
    case 'INT8': b.writeInt8(v, at); return;
    case 'INT16': b.writeInt16LE(v, at); return;
    case 'INT32': b.writeInt32LE(v, at); return;
    case 'INT64': b.writeBigInt64LE(BigInt(v), at); return;
    case 'FP16': b.writeUInt16LE(numberToHalf(v), at); return;
    case 'FP32': b.writeFloatLE(v, at); return;
    case 'FP64': b.writeDoubleLE(v, at); return;
  }
}

/** IEEE 754 half precision bits to a number. */
export function halfToNumber(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 0x1f) return frac === 0 ? sign * Infinity : Number.NaN;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/** A number to IEEE 754 half precision bits, rounding to nearest even (through a float32, as numpy does for in-range values). */
export function numberToHalf(v: number): number {
  const f32 = new Float32Array([v]);
  const x = new Uint32Array(f32.buffer)[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant !== 0 ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let half = mant >> shift;
    const rest = mant & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    if (rest > mid || (rest === mid && (half & 1) === 1)) half++;
    return sign | half;
  }
  let half = (e << 10) | (mant >> 13);
  const rest = mant & 0x1fff;
  // A carry out of the mantissa moves into the exponent (up to infinity), which is what the bits want.
  if (rest > 0x1000 || (rest === 0x1000 && (half & 1) === 1)) half++;
  return sign | half;
}
