// What every CLI command gets from the edge: the environment snapshot and output streams.
export interface CliContext {
  /** process.env as read once at start-up, frozen. Commands never read process.env themselves. */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** The working directory at start-up: relative paths typed by the user are taken from it. */
  readonly cwd: string;
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
}
