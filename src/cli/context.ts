// What every CLI command gets from the edge: the environment snapshot and output streams.
export interface CliContext {
  /** process.env as read once at start-up, frozen. Commands never read process.env themselves. */
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
}
