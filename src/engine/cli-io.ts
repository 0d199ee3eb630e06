/**
 * What every bert-lab command shares: where it writes, and the error that means a wrong command
 * line (exit 2). Apart from cli.ts so that the command files (cli-hub.ts) can use them.
 */

/** A wrong command line: exit 2. Anything else that fails is a runtime error: exit 1. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** Where a command writes; the CLI's own process by default, a buffer in tests. */
export interface Io {
  stdout(s: string): void;
  stderr(s: string): void;
  /** Whether stderr is a terminal (a redrawn progress bar instead of a line per logging step). */
  tty: boolean;
  /** Ends the process at once (only an interrupted `train` does). */
  exit(code: number): void;
}

/** An interrupt (Ctrl-C, SIGTERM) that ended a command early: exit 128 + the signal's number. */
export class InterruptedError extends Error {
  override name = 'InterruptedError';
  constructor(readonly exitCode: number, message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** A command line's flags as parsed: strings, booleans, repeated strings. */
export type Values = Record<string, string | boolean | string[] | undefined>;
/** A parsed command line: its flags, integer flags already checked and converted, positionals. */
export interface Parsed { values: Values; positionals: string[]; help: boolean; ints: Record<string, number> }

/** A string flag's value (undefined when absent). */
export const str = (v: Values, k: string): string | undefined => (typeof v[k] === 'string' ? (v[k] as string) : undefined);
