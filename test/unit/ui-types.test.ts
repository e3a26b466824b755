// The browser's view of the admin API matches the plane's: checked by the compiler (this file does not type-check otherwise).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { z } from 'zod';
import type { diagnosisSchema } from '../../src/control/api/diagnose-routes.js';
import type { Operation } from '../../src/control/services/operations.js';
import type { ServiceEvent } from '../../src/control/services/events.js';
import type { LogChunk } from '../../src/control/services/logs.js';
import type { ReplicaView, ServiceDetail } from '../../src/control/services/view.js';
import type { EnvironmentView } from '../../src/control/environments/env-schema.js';
import type { ImageView } from '../../src/images/schema.js';
import type { ModelVersionDetail } from '../../src/control/model-schema.js';
import type { LogChunkView, OperationView, ReplicaRow, ServiceEventView, ServicePage } from '../../src/ui/shared/protocol.js';
import type { Diagnosis, Environment, Image, Keys, ModelDetail } from '../../src/ui/app/lib/types.js';
import type { ServiceFacts } from '../../src/ui/server/sources.js';

/** Compiles only when a value of type `From` can be used where the browser expects `To`. */
const fits = <From extends To, To>(): true => true;

test('the plane\'s responses are assignable to the shapes the dashboard reads', () => {
  assert.ok(fits<z.infer<typeof diagnosisSchema>, Diagnosis>());
  assert.ok(fits<{ auth: 'key' | 'token' | 'none'; primary_key: string; secondary_key: string }, Keys>());
  assert.ok(fits<EnvironmentView, Environment>());
  assert.ok(fits<ImageView, Image>());
  assert.ok(fits<ModelVersionDetail, ModelDetail>());
  assert.ok(fits<Operation, OperationView>());
  assert.ok(fits<ServiceEvent, ServiceEventView>());
  assert.ok(fits<LogChunk, LogChunkView>());
  assert.ok(fits<Omit<ReplicaView, 'url'>, ReplicaRow>());
  assert.ok(fits<Pick<ServiceDetail, 'state' | 'auth' | 'swagger_uri' | 'spec'>, Pick<ServicePage, 'state' | 'auth' | 'swagger_uri' | 'spec'>>());
  assert.ok(fits<Pick<ServiceDetail, 'state' | 'reason' | 'generation'>, Pick<ServiceFacts, 'state' | 'reason' | 'generation'>>());
});
