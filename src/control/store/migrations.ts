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
];
