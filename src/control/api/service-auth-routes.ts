// REST routes of a service's scoring credentials: show its keys, regenerate one, issue a short-lived token.
import { z } from 'zod';
import { BerthError } from '../../errors/catalogue.js';
import { DEFAULT_TOKEN_LIFETIME_S, type TokenAuthority } from '../../gateway/auth.js';
import type { EventLog } from '../services/events.js';
import { newKey } from '../services/manager.js';
import type { ServiceRecord, ServiceStore } from '../services/service-store.js';
import { serviceNameSchema } from '../services/spec.js';
import { route, type Route } from './route.js';

export interface ServiceAuthApi {
  readonly store: ServiceStore;
  readonly events: EventLog;
  readonly tokens: TokenAuthority;
  /** Called after a key changed, so the gateway stops taking the old one at once. */
  readonly onKeysChanged: (service: string) => void;
}

const namePath = z.object({ name: serviceNameSchema }).strict();
const keysSchema = z.object({ auth: z.enum(['key', 'token', 'none']), primary_key: z.string(), secondary_key: z.string() });
const tokenSchema = z.object({ access_token: z.string(), token_type: z.literal('Bearer'), expires_on: z.string(), refresh_after: z.string() });
const notFound = { description: 'no such service (SERVICE_NOT_FOUND)' };

export const authModeOf = (svc: ServiceRecord): 'key' | 'token' | 'none' => (svc.spec.auth_enabled ? 'key' : svc.spec.token_auth_enabled ? 'token' : 'none');
const keysOf = (svc: ServiceRecord) => ({ auth: authModeOf(svc), primary_key: svc.primaryKey, secondary_key: svc.secondaryKey });

export function serviceAuthRoutes(api: ServiceAuthApi): Route[] {
  const { store, events, tokens } = api;
  return [
    route({
      method: 'GET', path: '/v1/services/{name}/keys', operationId: 'getServiceKeys', summary: 'The service\'s primary and secondary scoring keys (Authorization: Bearer <key>)',
      params: namePath,
      responses: { 200: { description: 'the keys, and the auth mode they apply to', schema: keysSchema }, 404: notFound },
      handle: ({ params }) => ({ status: 200, json: keysOf(store.get(params.name)) }),
    }),
    route({
      method: 'POST', path: '/v1/services/{name}/keys/regenerate', operationId: 'regenerateServiceKey', summary: 'Replace the primary or the secondary key; the old one stops working at once',
      params: namePath,
      body: z.object({ key: z.enum(['primary', 'secondary']) }).strict(),
      responses: { 200: { description: 'the keys after the change', schema: keysSchema }, 400: { description: 'invalid body (VALIDATION_FAILED)' }, 404: notFound },
      handle: ({ params, body }) => {
        store.setKey(params.name, body.key, newKey());
        api.onKeysChanged(params.name);
        events.add(params.name, { type: 'KeyRegenerated', message: `the ${body.key} key was regenerated; the previous one no longer works`, data: { key: body.key } });
        return { status: 200, json: keysOf(store.get(params.name)) };
      },
    }),
    route({
      method: 'POST', path: '/v1/services/{name}/token', operationId: 'getServiceToken', summary: 'Issue a short-lived token for a service with token auth (12 h unless lifetime_seconds is given)',
      params: namePath,
      body: z.object({ lifetime_seconds: z.number().int().min(1).max(DEFAULT_TOKEN_LIFETIME_S, `at most ${DEFAULT_TOKEN_LIFETIME_S} (12 h)`).optional() }).strict().optional(),
      responses: { 200: { description: 'the token, when it expires and when to fetch the next one', schema: tokenSchema }, 400: { description: 'the service does not use token auth (AUTH_MODE_MISMATCH)' }, 404: notFound },
      handle: async ({ params, body }) => {
        const svc = store.get(params.name);
        const mode = authModeOf(svc);
        if (mode !== 'token') {
          throw new BerthError('AUTH_MODE_MISMATCH', { service: svc.name, mode, detail: `tokens are issued only to services with token auth${mode === 'key' ? `; score it with a key (berth service keys ${svc.name})` : '; it needs no credential'}` });
        }
        return { status: 200, json: await tokens.mint(svc.name, body?.lifetime_seconds) };
      },
    }),
  ];
}
