// Rules about changes: an operation that runs (changes get 409), a failed environment build, and a failed deploy not explained otherwise.
import { catalogue, type ErrorCode } from '../errors/catalogue.js';
import type { DiagnoseInput, Finding } from './types.js';

const BUILD_CODES = new Set(['ENVIRONMENT_BUILD_FAILED', 'PACKAGE_INDEX_UNREACHABLE']);
const asCode = (code: string): ErrorCode => (code in catalogue ? (code as ErrorCode) : 'INTERNAL');

export function busyRule(input: DiagnoseInput): Finding[] {
  const op = input.running;
  if (op === undefined) return [];
  const forS = Math.round((input.now.getTime() - Date.parse(op.started_at)) / 1000);
  return [{
    severity: 'warning', code: 'OPERATION_IN_PROGRESS',
    symptom: `changes to ${input.service.name} are refused with 409 while an operation runs`,
    cause: `${op.kind} operation ${op.id} has been running since ${op.started_at} (${forS} s)`,
    evidence: [`operation ${op.id}: ${op.kind}, started ${op.started_at}, now: ${op.progress}`],
    fix: `Wait for it to finish (berth operation show ${op.id}), then run the change again.`,
  }];
}

export function buildRule(input: DiagnoseInput): Finding[] {
  const env = input.environment;
  const opErr = input.lastOperation?.error;
  const fromOp = opErr !== undefined && BUILD_CODES.has(opErr.code) && input.service.state !== 'Healthy' ? opErr : undefined;
  const err = env?.error ?? fromOp;
  if (err === undefined || (env?.state !== 'Failed' && fromOp === undefined)) return [];
  const lines = err.message.split('\n').filter((l) => l.trim() !== '');
  return [{
    severity: input.service.state === 'Healthy' ? 'warning' : 'critical', code: asCode(err.code),
    symptom: `the environment ${env?.ref ?? ''} of ${input.service.name} failed to build, so its replicas cannot start`,
    cause: lines[0] ?? 'the build failed',
    evidence: ['the package manager said:', ...lines.slice(1, 30).map((l) => `  ${l}`)],
    fix: `Fix the requirement the output names and create a new version (berth env create), then berth service update ${input.service.name} --env NAME:VERSION; for a passing problem (network) retry with: berth env build ${env?.ref ?? 'NAME:VERSION'}`,
  }];
}

/** The last failed deploy/update of a service that is not running, when no other rule explained it. */
export function failedOperationRule(input: DiagnoseInput, others: readonly Finding[]): Finding[] {
  const op = input.lastOperation;
  if (op?.status !== 'Failed' || op.error === undefined || input.service.state === 'Healthy') return [];
  if (others.some((f) => f.severity === 'critical')) return [];
  return [{
    severity: input.service.ready === 0 ? 'critical' : 'warning', code: asCode(op.error.code),
    symptom: `the last ${op.kind} of ${input.service.name} failed; the service is ${input.service.state}`,
    cause: op.error.message.split('\n')[0]!,
    evidence: [`operation ${op.id} ${op.kind} failed at ${op.ended_at ?? '?'}: ${op.error.message}`],
    fix: op.error.fix,
  }];
}
