// Name, label and key rules of k8s.io/apimachinery/pkg/util/validation, with their exact error texts.
import { invalidValue, required, type FieldError } from './status.js';

const SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_1123 = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const LABEL_1035 = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const QUALIFIED = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const ENV_NAME = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;
const CONFIG_KEY = /^[-._a-zA-Z0-9]+$/;

const tooLongMsg = (n: number): string => `must be no more than ${n} characters`;

export function dns1123Subdomain(v: string): string[] {
  const out: string[] = [];
  if (v.length > 253) out.push(tooLongMsg(253));
  if (!SUBDOMAIN.test(v)) out.push("a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')");
  return out;
}

export function dns1123Label(v: string): string[] {
  const out: string[] = [];
  if (v.length > 63) out.push(tooLongMsg(63));
  if (!LABEL_1123.test(v)) out.push("a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')");
  return out;
}

export function dns1035Label(v: string): string[] {
  const out: string[] = [];
  if (v.length > 63) out.push(tooLongMsg(63));
  if (!LABEL_1035.test(v)) out.push("a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')");
  return out;
}

export function qualifiedName(v: string): string[] {
  const parts = v.split('/');
  let name = v;
  const out: string[] = [];
  if (parts.length === 2) {
    const [prefix, rest] = parts as [string, string];
    name = rest;
    if (prefix === '') out.push('prefix part must be non-empty');
    else for (const m of dns1123Subdomain(prefix)) out.push(`prefix part ${m}`);
  } else if (parts.length > 2) {
    return ["a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"];
  }
  if (name === '') out.push('name part must be non-empty');
  else if (name.length > 63) out.push(`name part ${tooLongMsg(63)}`);
  if (name !== '' && !QUALIFIED.test(name)) out.push("name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')");
  return out;
}

export function labelValue(v: string): string[] {
  const out: string[] = [];
  if (v.length > 63) out.push(tooLongMsg(63));
  if (!LABEL_VALUE.test(v)) out.push("a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')");
  return out;
}

export function envVarName(v: string): string[] {
  return ENV_NAME.test(v) ? [] : ["a valid environment variable name must consist of alphabetic characters, digits, '_', '-', or '.', and must not start with a digit (e.g. 'my.env-name',  or 'MY_ENV.NAME',  or 'MyEnvName1', regex used for validation is '[-._a-zA-Z][-._a-zA-Z0-9]*')"];
}

export function configKey(v: string): string[] {
  const out: string[] = [];
  if (v.length > 253) out.push(tooLongMsg(253));
  if (!CONFIG_KEY.test(v)) out.push("a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')");
  return out;
}

/** Labels as ValidateLabels checks them: keys and values, each error on `field`. */
export function validateLabels(labels: Record<string, string> | undefined, field: string): FieldError[] {
  const out: FieldError[] = [];
  for (const [k, v] of Object.entries(labels ?? {})) {
    for (const m of qualifiedName(k)) out.push(invalidValue(field, k, m));
    for (const m of labelValue(v)) out.push(invalidValue(field, v, m));
  }
  return out;
}

export function validateAnnotations(annotations: Record<string, string> | undefined, field: string): FieldError[] {
  const out: FieldError[] = [];
  for (const k of Object.keys(annotations ?? {})) for (const m of qualifiedName(k.toLowerCase())) out.push(invalidValue(field, k, m));
  return out;
}

/** An object's name: required, then the rule of its kind. */
export function validateName(name: string | undefined, rule: (v: string) => string[], field = 'metadata.name'): FieldError[] {
  if (name === undefined || name === '') return [required(field, 'name or generateName is required')];
  return rule(name).map((m) => invalidValue(field, name, m));
}
