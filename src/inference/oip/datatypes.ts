// The Open Inference Protocol's tensor datatypes: which JSON values each one takes, and its size as binary data.

export const DATATYPES = ['BOOL', 'UINT8', 'UINT16', 'UINT32', 'UINT64', 'INT8', 'INT16', 'INT32', 'INT64', 'FP16', 'FP32', 'FP64', 'BYTES'] as const;
export type Datatype = (typeof DATATYPES)[number];

/** One tensor element as JSON carries it: BOOL a boolean, BYTES a string, every other type a number. */
export type Element = boolean | number | string;

export function isDatatype(value: unknown): value is Datatype {
  return typeof value === 'string' && (DATATYPES as readonly string[]).includes(value);
}

/** Bytes per element in the binary tensor data extension; BYTES elements carry their own 4-byte length. */
export const ELEMENT_BYTES: Readonly<Record<Exclude<Datatype, 'BYTES'>, number>> = {
  BOOL: 1, UINT8: 1, UINT16: 2, UINT32: 4, UINT64: 8, INT8: 1, INT16: 2, INT32: 4, INT64: 8, FP16: 2, FP32: 4, FP64: 8,
};

/** Integer ranges, as doubles: 64-bit bounds are 2^63 and 2^64 exactly (JSON numbers past 2^53 lose precision anyway). */
const INTEGER_RANGE: Readonly<Partial<Record<Datatype, readonly [number, number]>>> = {
  UINT8: [0, 255], UINT16: [0, 65_535], UINT32: [0, 4_294_967_295], UINT64: [0, 2 ** 64],
  INT8: [-128, 127], INT16: [-32_768, 32_767], INT32: [-2_147_483_648, 2_147_483_647], INT64: [-(2 ** 63), 2 ** 63],
};

/** The largest finite value of each float type: a larger JSON number would become infinity in it. */
const FLOAT_MAX: Readonly<Partial<Record<Datatype, number>>> = { FP16: 65_504, FP32: 3.4028234663852886e38, FP64: Number.MAX_VALUE };

/** Why `value` is not an element of `datatype` (for the 400's message), or undefined when it is. */
export function elementProblem(datatype: Datatype, value: unknown): string | undefined {
  if (datatype === 'BOOL') return typeof value === 'boolean' ? undefined : `${show(value)} is not a boolean`;
  if (datatype === 'BYTES') return typeof value === 'string' ? undefined : `${show(value)} is not a string`;
  if (typeof value !== 'number' || !Number.isFinite(value)) return `${show(value)} is not a number`;
  const range = INTEGER_RANGE[datatype];
  if (range !== undefined) {
    if (!Number.isInteger(value)) return `${value} is not an integer`;
    // The upper 64-bit bounds are exclusive: 2^63 and 2^64 themselves do not fit.
    const tooHigh = datatype.endsWith('64') ? value >= range[1] : value > range[1];
    return value < range[0] || tooHigh ? `${value} is out of range for ${datatype}` : undefined;
  }
  return Math.abs(value) > FLOAT_MAX[datatype]! ? `${value} is out of range for ${datatype}` : undefined;
}

function show(value: unknown): string {
  if (Array.isArray(value)) return 'an array';
  if (value === null) return 'null';
  if (typeof value === 'object') return 'an object';
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}

/** The datatype berth reports for plain JSON values: all booleans BOOL, all integers INT64, other numbers FP64, all strings BYTES. */
export function datatypeOfValues(values: readonly unknown[]): Datatype | undefined {
  let kind: 'bool' | 'int' | 'float' | 'string' | undefined;
  for (const v of values) {
    const k = typeof v === 'boolean' ? 'bool' : typeof v === 'string' ? 'string' : typeof v === 'number' && Number.isFinite(v) ? (Number.isInteger(v) ? 'int' : 'float') : undefined;
    if (k === undefined) return undefined;
    if (kind === undefined || kind === k) kind = k;
    else if ((kind === 'int' && k === 'float') || (kind === 'float' && k === 'int')) kind = 'float';
    else return undefined;
  }
  switch (kind) {
    case 'bool': return 'BOOL';
    case 'int': return 'INT64';
    case 'string': return 'BYTES';
    // An empty list says nothing of its type: FP64, the type of a JSON number.
    default: return 'FP64';
  }
}
