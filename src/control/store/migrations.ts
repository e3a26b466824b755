// The store's schema history: each entry moves the SQLite `user_version` up by one. Append only; never edit a shipped step.
export interface Migration {
  readonly version: number;
  readonly description: string;
  readonly sql: string;
}

export const migrations: readonly Migration[] = [
  {
    version: 1,
    description: 'model registry',
    sql: `
      -- One row per model name; latest_version is a counter, so a deleted version number is never reused.
      CREATE TABLE models (
        name TEXT PRIMARY KEY,
        latest_version INTEGER NOT NULL,
        created_at TEXT NOT NULL
      ) STRICT;
      CREATE TABLE model_versions (
        name TEXT NOT NULL REFERENCES models(name),
        version INTEGER NOT NULL,
        description TEXT NOT NULL,
        tags TEXT NOT NULL,            -- JSON object of string → string
        size INTEGER NOT NULL,         -- total bytes of its files
        created_at TEXT NOT NULL,
        PRIMARY KEY (name, version)
      ) STRICT;
      CREATE TABLE model_files (
        name TEXT NOT NULL,
        version INTEGER NOT NULL,
        path TEXT NOT NULL,            -- relative, '/'-separated, as registered
        digest TEXT NOT NULL,          -- sha256 hex of the content = the blob's name
        size INTEGER NOT NULL,
        PRIMARY KEY (name, version, path),
        FOREIGN KEY (name, version) REFERENCES model_versions(name, version) ON DELETE CASCADE
      ) STRICT;
      CREATE INDEX model_files_by_digest ON model_files(digest);
      -- Which services use which model versions. Filled by the services part; read to refuse deleting a model in use.
      CREATE TABLE service_models (
        service TEXT NOT NULL,
        model_name TEXT NOT NULL,
        model_version INTEGER NOT NULL,
        PRIMARY KEY (service, model_name, model_version)
      ) STRICT;
    `,
  },
  {
    version: 2,
    description: 'services, operations, events, replicas',
    sql: `
      -- A service's committed desired state: the spec of its active generation. An update's spec lives in its
      -- operation until the new generation is healthy, so a failed update leaves this row as it was.
      CREATE TABLE services (
        name TEXT PRIMARY KEY,
        request TEXT NOT NULL,         -- JSON: the fields as given (updates merge over these)
        spec TEXT NOT NULL,            -- JSON: the normalised spec, defaults filled, model versions resolved
        generation INTEGER NOT NULL,
        state TEXT NOT NULL,           -- Transitioning, Unschedulable, Failed, Deleting, or Settled (derived from replicas)
        reason TEXT NOT NULL DEFAULT '',
        primary_key TEXT NOT NULL,
        secondary_key TEXT NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
      ) STRICT;
      CREATE TABLE operations (
        id TEXT PRIMARY KEY,
        kind TEXT NOT NULL CHECK (kind IN ('deploy', 'update', 'delete')),
        service TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('Running', 'Succeeded', 'Failed')),
        generation INTEGER,            -- the generation it creates (deploy, update)
        spec TEXT,                     -- JSON: the normalised spec it rolls out (deploy, update)
        progress TEXT NOT NULL DEFAULT '',
        steps TEXT NOT NULL DEFAULT '[]',  -- JSON [{time, text}]: every progress line, so a follower misses none
        error TEXT,                    -- JSON {code, message, fix} when Failed
        started_at TEXT NOT NULL,
        ended_at TEXT
      ) STRICT;
      -- At most one running operation per service: the store itself refuses a second one (→ 409).
      CREATE UNIQUE INDEX operations_one_running ON operations(service) WHERE status = 'Running';
      CREATE INDEX operations_by_service ON operations(service, started_at);
      CREATE TABLE events (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        service TEXT NOT NULL,
        time TEXT NOT NULL,
        type TEXT NOT NULL,
        replica TEXT,                  -- NULL for service-level events
        message TEXT NOT NULL,
        data TEXT                      -- JSON: the event's own fields
      ) STRICT;
      CREATE INDEX events_by_service ON events(service, id);
      -- The replicas the control plane placed, and where a running one can be found again (pid, port) after a restart.
      CREATE TABLE replicas (
        id TEXT PRIMARY KEY,
        service TEXT NOT NULL,
        generation INTEGER NOT NULL,
        idx INTEGER NOT NULL,
        pid INTEGER,
        port INTEGER,
        cgroup_path TEXT,
        created_at TEXT NOT NULL
      ) STRICT;
      CREATE INDEX replicas_by_service ON replicas(service, generation);
    `,
  },
  {
    version: 3,
    description: 'environments and their builds',
    sql: `
      -- One row per environment name; latest_version is a counter, so a version number is never reused.
      CREATE TABLE environments (
        name TEXT PRIMARY KEY,
        latest_version INTEGER NOT NULL,
        created_at TEXT NOT NULL
      ) STRICT;
      CREATE TABLE environment_versions (
        name TEXT NOT NULL REFERENCES environments(name),
        version INTEGER NOT NULL,
        description TEXT NOT NULL,
        spec TEXT NOT NULL,            -- JSON: the normalised spec, variables included
        digest TEXT NOT NULL,          -- sha256 of the build spec (variables excluded): the build it shares
        created_at TEXT NOT NULL,
        PRIMARY KEY (name, version)
      ) STRICT;
      CREATE INDEX environment_versions_by_digest ON environment_versions(digest);
      -- One build per digest, whatever versions and services use it: state, counters and the failure to report.
      CREATE TABLE environment_builds (
        digest TEXT PRIMARY KEY,
        state TEXT NOT NULL CHECK (state IN ('Building', 'Built', 'Failed')),
        builds INTEGER NOT NULL,       -- how many times it was actually built: "never rebuilt" is this staying at 1
        size INTEGER,
        build_ms INTEGER,
        started_at TEXT,
        finished_at TEXT,
        error TEXT                     -- JSON {code, params} when Failed
      ) STRICT;
    `,
  },
  {
    version: 4,
    description: 'container images, their locks, and the image each service last asked for',
    sql: `
      -- One row per image berth made, pulled or attempted: a layer of the chain base → runtime → env → app, by its
      -- content-hash tag. A failed attempt keeps its row (state failed) so its error and log stay findable.
      CREATE TABLE images (
        tag TEXT PRIMARY KEY,          -- repository:hash (the registry's name when there is one)
        kind TEXT NOT NULL CHECK (kind IN ('base', 'runtime', 'env', 'app')),
        key TEXT NOT NULL,             -- the layer hash; for env, failures before resolving use the resolution key
        parent TEXT,                   -- the image it was built FROM
        image_id TEXT,                 -- the engine's image id (sha256 of its config)
        digest TEXT,                   -- the registry's manifest digest, once pushed or pulled
        ref TEXT,                      -- what to run: repository@digest, else the image id
        inputs TEXT NOT NULL,          -- JSON: every input of the hash, and the source manifest of an app
        lock TEXT,                     -- JSON: an env's resolved packages with their hashes
        size INTEGER,
        state TEXT NOT NULL CHECK (state IN ('building', 'built', 'failed')),
        outcome TEXT,                  -- built, pulled or reused-local: how it last came to be here
        why TEXT,                      -- when built: which input changed
        service TEXT,                  -- the service that first asked for it
        failure TEXT,                  -- JSON {code, params} when failed
        log_path TEXT NOT NULL,
        build_ms INTEGER,
        created_at TEXT NOT NULL,
        last_used_at TEXT NOT NULL
      ) STRICT;
      CREATE INDEX images_by_kind ON images(kind, last_used_at);
      -- A Python or JS environment resolved on the host for one target interpreter: the lock and the folder of wheels
      -- (or node_modules) the env layer is built from, reused until the environment's spec changes.
      CREATE TABLE image_locks (
        key TEXT PRIMARY KEY,
        env_digest TEXT NOT NULL,
        lock TEXT NOT NULL,            -- JSON
        dir TEXT NOT NULL,
        created_at TEXT NOT NULL
      ) STRICT;
      -- The app image each service last asked for: the "previous image" a rebuild is explained against.
      CREATE TABLE service_images (
        service TEXT PRIMARY KEY,
        tag TEXT NOT NULL,
        used_at TEXT NOT NULL
      ) STRICT;
    `,
  },
  {
    version: 5,
    description: 'rollouts (a candidate generation beside the stable one) and their operations',
    sql: `
      -- A rollout under way: the candidate generation's request and spec (the service's row keeps the stable one until
      -- promote commits the candidate), the traffic split, the mirror and the guardrail. One per service.
      CREATE TABLE rollouts (
        service TEXT PRIMARY KEY,
        base_generation INTEGER NOT NULL,  -- the stable generation when the rollout began
        generation INTEGER NOT NULL,       -- the candidate
        request TEXT NOT NULL,             -- JSON: the candidate's fields as given (models pinned)
        spec TEXT NOT NULL,                -- JSON: the candidate's normalised spec
        weights TEXT NOT NULL,             -- JSON {"GEN": percent}: the split, summing to 100
        mirror_percent INTEGER NOT NULL DEFAULT 0,  -- copies of this share of the other requests go to the candidate
        guardrail TEXT,                    -- JSON: the automatic rollback rule, if any
        state TEXT NOT NULL CHECK (state IN ('Starting', 'Live', 'Promoting', 'RollingBack')),
        started_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
      ) STRICT;
      -- Operations gain promote and rollback: SQLite cannot change a CHECK, so the table is rebuilt with its rows.
      CREATE TABLE operations_new (
        id TEXT PRIMARY KEY,
        kind TEXT NOT NULL CHECK (kind IN ('deploy', 'update', 'delete', 'promote', 'rollback')),
        service TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('Running', 'Succeeded', 'Failed')),
        generation INTEGER,
        spec TEXT,
        progress TEXT NOT NULL DEFAULT '',
        steps TEXT NOT NULL DEFAULT '[]',
        error TEXT,
        started_at TEXT NOT NULL,
        ended_at TEXT
      ) STRICT;
      INSERT INTO operations_new (id, kind, service, status, generation, spec, progress, steps, error, started_at, ended_at)
        SELECT id, kind, service, status, generation, spec, progress, steps, error, started_at, ended_at FROM operations;
      DROP TABLE operations;
      ALTER TABLE operations_new RENAME TO operations;
      CREATE UNIQUE INDEX operations_one_running ON operations(service) WHERE status = 'Running';
      CREATE INDEX operations_by_service ON operations(service, started_at);
    `,
  },
];
