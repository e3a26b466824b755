// The control plane's composition root: takes the home, opens store and blobs, wires registry and API, serves HTTP.
import { mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { EnvSnapshot } from '../core/home.js';
import type { Logger } from '../core/logger.js';
import type { Clock } from '../core/clock.js';
import { BerthError } from '../errors/catalogue.js';
import { storageFailure } from '../errors/storage.js';
import { version } from '../core/version.js';
import { createApiServer } from './api/server.js';
import { adminGuard } from './api/admin-auth.js';
import { isLoopbackHost, type AdminToken } from './admin-token.js';
import { environmentRoutes } from './api/environment-routes.js';
import { imageRoutes } from './api/image-routes.js';
import type { DockerConnection, Images } from '../images/index.js';
import { modelRoutes } from './api/model-routes.js';
import { openApiDocument, type OpenApiDocument } from './api/openapi.js';
import { composeDashboard } from '../ui/server/compose.js';
import { systemRoutes, type Status } from './api/system-routes.js';
import { BlobStore } from './blobs.js';
import { composeServices, type ServicesPart } from './compose-services.js';
import { Environments } from './environments/environments.js';
import { StoreModelUsage } from './model-usage.js';
import { ModelRegistry } from './registry.js';
import { acquireRunFile, processStart, publishRunFile, releaseRunFile, type RunInfo } from './runfile.js';
import type { ControlSettings } from './settings.js';
import { openStore, schemaVersion, type Db } from './store/db.js';

export interface ControlPlane {
  readonly url: string;
  readonly registry: ModelRegistry;
  readonly services: ServicesPart;
  readonly environments: Environments;
  /** The images part, made on first use (loading the Docker client then): the plane needs no Docker until images are asked for. */
  readonly images: () => Promise<Images>;
  /**
   * Stops accepting requests, lets running ones finish for up to `graceMs`, interrupts running operations, stops every
   * replica (a graceful stop; replicas outlive only a crash of the control plane, and are adopted at the next start),
   * closes the store, removes the run file.
   */
  close(graceMs?: number): Promise<void>;
}

export interface ControlPlaneOptions {
  /** The environment replicas inherit (PATH, HOME, ...), snapshotted at the edge; empty when not given. */
  readonly env?: EnvSnapshot;
  readonly clock?: Clock;
  /** Required off loopback (resolveAdminToken at the edge); when given, every admin route wants it. */
  readonly adminToken?: AdminToken | undefined;
}

export async function startControlPlane(settings: ControlSettings, logger: Logger, options: ControlPlaneOptions = {}): Promise<ControlPlane> {
  const { home } = settings;
  const { adminToken } = options;
  // Anyone who reaches an admin API can read scoring keys and run code as this user: off loopback, never without a token.
  if (adminToken === undefined && !isLoopbackHost(settings.host)) throw new BerthError('ADMIN_TOKEN_REQUIRED', { host: settings.host });
  mkdirSync(home, { recursive: true, mode: 0o700 });
  const started_at = new Date().toISOString();
  const info: RunInfo = {
    pid: process.pid, pid_start: processStart(process.pid), home, version, started_at,
    ...(adminToken?.file === undefined ? {} : { admin_token_file: adminToken.file }),
  };
  // The run file is the lock: nothing below (migrations, garbage collection) may run twice on one home.
  acquireRunFile(info);
  let db: Db | undefined;
  let services: ServicesPart | undefined;
  let environments: Environments | undefined;
  try {
    db = openStore(join(home, 'berth.db'));
    const store = db;
    const blobs = new BlobStore(join(home, 'blobs'));
    const usage = new StoreModelUsage(store);
    const registry = new ModelRegistry(store, blobs, usage);
    const recovered = await registry.recover();
    logger.info({ home, schema_version: schemaVersion(store), ...recovered }, 'store ready');
    const clock = options.clock;
    environments = new Environments({ db: store, root: join(home, 'envs'), cache: join(home, 'cache'), env: options.env ?? {}, logger, ...(clock ? { now: () => clock.now() } : {}) });
    const envs = environments;
    logger.info({ resumed_builds: envs.recover() }, 'environments ready');

    // Images and the Docker engine: lazy, so a plane with no Docker starts and serves; image routes and docker services
    // then fail with DOCKER_UNAVAILABLE. The engine is pinged again on the next use, so starting dockerd later is enough.
    let imagesPart: Promise<Images> | undefined;
    let connection: Promise<DockerConnection> | undefined;
    const dockerConnection = (): Promise<DockerConnection> => (connection ??= import('../images/index.js').then((m) => new m.DockerConnection(options.env ?? {})));
    const images = (): Promise<Images> => (imagesPart ??= Promise.all([import('../images/index.js'), dockerConnection()]).then(([m, docker]) => {
      const made = new m.Images({
        docker, db: store, home, logger, env: options.env ?? {}, inUse: () => services?.imagesInUse() ?? new Set<string>(),
        ...(settings.registry === undefined ? {} : { registry: settings.registry }),
        ...(settings.baseImage === undefined ? {} : { baseImage: settings.baseImage }),
        ...(clock === undefined ? {} : { clock }),
      });
      logger.info({ interrupted_images: made.recover() }, 'images ready');
      return made;
    }));
    const containers = { images, docker: async () => (await dockerConnection()).get() };

    let url = '';
    services = await composeServices({ containers, settings, db: store, registry, logger, env: options.env ?? {}, baseUrl: () => url, environments: envs, ...(options.clock ? { clock: options.clock } : {}), ...(adminToken === undefined ? {} : { adminToken: adminToken.value }) });
    const part = services;
    // Before the API answers: replicas that survived a crash are adopted, the rest restarted, interrupted changes settled.
    await part.reconcile();
    let document: OpenApiDocument = {};
    const status = (): Status => {
      const c = registry.counts();
      return { version, pid: process.pid, url, home, started_at, schema_version: schemaVersion(store), models: { names: c.models, versions: c.versions }, services: usage.countServices() };
    };
    // The dashboard: /ui is served ahead of the router (its files hold no secret), its data routes are admin routes.
    const dashboard = composeDashboard({
      live: part.live, models: () => registry.list(), servicesUsing: (name, v) => usage.servicesUsing(name, v), version,
      now: () => clock?.now() ?? Date.now(), onError: (err) => logger.warn({ err }, 'dashboard sampler failed'),
    });
    const routes = [...systemRoutes(status, () => document), ...modelRoutes(registry), ...environmentRoutes(envs), ...imageRoutes(images, envs), ...part.routes, ...dashboard.routes];
    document = openApiDocument(routes, version);
    const server = createApiServer(routes, { logger, fastPath: (req, res) => part.fastPath(req, res) || dashboard.handle(req, res), home, guard: adminGuard(adminToken?.value) });
    const address = await listen(server, settings.port, settings.host);
    dashboard.start();
    url = `http://${urlHost(settings.host)}:${address.port}`;
    publishRunFile({ ...info, url });
    logger.info({ url, pid: process.pid, admin_token: adminToken === undefined ? 'none (loopback)' : `required (${adminToken.from})` }, 'control plane listening');

    return {
      url,
      registry,
      services: part,
      environments: envs,
      images,
      async close(graceMs = 5000) {
        await dashboard.close(); // its streams never go idle: ended first, they do not hold up the server's close
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        const timer = setTimeout(() => server.closeAllConnections(), graceMs);
        await closed;
        clearTimeout(timer);
        await part.close();
        await envs.close();
        if (imagesPart !== undefined) await (await imagesPart).close();
        store.close();
        releaseRunFile(home, process.pid);
        logger.info('control plane stopped');
      },
    };
  } catch (err) {
    await services?.close().catch(() => undefined);
    await environments?.close().catch(() => undefined);
    db?.close();
    releaseRunFile(home, process.pid);
    // A full or failing disk at start is the home's problem, said as such, not an unexpected error with a stack.
    throw storageFailure(err, home) ?? err;
  }
}

function listen(server: ReturnType<typeof createApiServer>, port: number, host: string): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      reject(err.code === 'EADDRINUSE' ? new BerthError('PORT_IN_USE', { port, host }) : err);
    });
    server.listen(port, host, () => resolve(server.address() as AddressInfo));
  });
}

/** The host clients should dial: a wildcard bind is reached over loopback; IPv6 literals need brackets. */
function urlHost(host: string): string {
  if (host === '0.0.0.0' || host === '::') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}
