// Status bodies worded as the real API server words them (k8s.io/apimachinery/pkg/api/errors).
import type { ResourceInfo } from './resources.js';
import { ApiError, type StatusBody, type StatusCause } from './types.js';

function status(code: number, reason: string | undefined, message: string, details?: StatusBody['details']): StatusBody {
  return {
    kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message,
    ...(reason === undefined ? {} : { reason }), ...(details === undefined ? {} : { details }), code,
  };
}

/** `deployments.apps` or `pods`: how errors name a resource. */
export function qualified(r: Pick<ResourceInfo, 'group' | 'resource'>): string {
  return r.group === '' ? r.resource : `${r.resource}.${r.group}`;
}

function details(r: Pick<ResourceInfo, 'group' | 'resource'>, name: string): StatusBody['details'] {
  return { name, ...(r.group === '' ? {} : { group: r.group }), kind: r.resource };
}

export const notFound = (r: Pick<ResourceInfo, 'group' | 'resource'>, name: string): ApiError =>
  new ApiError(status(404, 'NotFound', `${qualified(r)} "${name}" not found`, details(r, name)));

export const alreadyExists = (r: Pick<ResourceInfo, 'group' | 'resource'>, name: string): ApiError =>
  new ApiError(status(409, 'AlreadyExists', `${qualified(r)} "${name}" already exists`, details(r, name)));

export const conflict = (r: Pick<ResourceInfo, 'group' | 'resource'>, name: string): ApiError =>
  new ApiError(status(409, 'Conflict',
    `Operation cannot be fulfilled on ${qualified(r)} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
    details(r, name)));

/** 409 for server-side apply conflicts with other managers (no force). */
export const applyConflict = (message: string, causes: StatusCause[]): ApiError => new ApiError(status(409, 'Conflict', message, { causes }));

export interface FieldError {
  type: 'FieldValueRequired' | 'FieldValueInvalid' | 'FieldValueNotSupported' | 'FieldValueDuplicate' | 'FieldValueForbidden' | 'FieldValueTooLong' | 'FieldValueNotFound' | 'FieldValueTypeInvalid';
  field: string;
  /** The error's body as field.Error.ErrorBody() prints it (`Required value`, `Invalid value: "x": detail`). */
  body: string;
}

/** 422 Invalid: `Deployment.apps "x" is invalid: [a: Required value, b: Invalid value: ...]`. */
export function invalid(group: string, kind: string, name: string, errs: readonly FieldError[]): ApiError {
  const qualifiedKind = group === '' ? kind : `${kind}.${group}`;
  const parts = errs.map((e) => `${e.field}: ${e.body}`);
  const aggregate = parts.length === 1 ? parts[0] : `[${parts.join(', ')}]`;
  return new ApiError(status(422, 'Invalid', `${qualifiedKind} "${name}" is invalid: ${aggregate}`, {
    name, ...(group === '' ? {} : { group }), kind,
    causes: errs.map((e) => ({ reason: e.type, message: e.body, field: e.field })),
  }));
}

export const badRequest = (message: string): ApiError => new ApiError(status(400, 'BadRequest', message));
export const unauthorized = (): ApiError => new ApiError(status(401, 'Unauthorized', 'Unauthorized'));
export const methodNotAllowed = (): ApiError => new ApiError(status(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource'));
export const gone = (message: string): ApiError => new ApiError(status(410, 'Expired', message));
/** An error the real server does not turn into a Status of its own (code 500, no reason), e.g. SSA schema errors. */
export const internal = (message: string): ApiError => new ApiError(status(500, undefined, message));
export const unsupportedMediaType = (): ApiError =>
  new ApiError(status(415, 'UnsupportedMediaType', 'the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json'));

/** Field-error bodies as field.Error prints them. */
export const required = (field: string, detail = ''): FieldError => ({ type: 'FieldValueRequired', field, body: detail === '' ? 'Required value' : `Required value: ${detail}` });
export const invalidValue = (field: string, value: unknown, detail: string): FieldError => ({ type: 'FieldValueInvalid', field, body: `Invalid value: ${goValue(value)}${detail === '' ? '' : `: ${detail}`}` });
/** An invalid value already rendered as Go prints it (structs such as v1.LabelSelector{...}). */
export const invalidRendered = (field: string, rendered: string, detail: string): FieldError => ({ type: 'FieldValueInvalid', field, body: `Invalid value: ${rendered}: ${detail}` });
export const notSupported = (field: string, value: unknown, supported: readonly string[]): FieldError => ({
  type: 'FieldValueNotSupported', field, body: `Unsupported value: ${goValue(value)}: supported values: ${supported.map((s) => `"${s}"`).join(', ')}`,
});
export const forbidden = (field: string, detail: string): FieldError => ({ type: 'FieldValueForbidden', field, body: `Forbidden: ${detail}` });
export const duplicate = (field: string, value: unknown): FieldError => ({ type: 'FieldValueDuplicate', field, body: `Duplicate value: ${goValue(value)}` });
export const fieldNotFound = (field: string, value: unknown): FieldError => ({ type: 'FieldValueNotFound', field, body: `Not found: ${goValue(value)}` });
export const tooLong = (field: string, max: number): FieldError => ({ type: 'FieldValueTooLong', field, body: `Too long: may not be more than ${max} bytes` });

/** How field errors print a value: strings quoted, numbers bare, maps as Go prints map[string]string. */
export function goValue(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'object' && !Array.isArray(v) && Object.values(v).every((x) => typeof x === 'string')) {
    return `map[string]string{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${JSON.stringify((v as Record<string, string>)[k])}`).join(', ')}}`;
  }
  return JSON.stringify(v);
}
