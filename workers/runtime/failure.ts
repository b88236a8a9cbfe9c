// What a failed run tells the user. Most failures speak for themselves; running out of the
// wasm backend's memory does not ("RuntimeError: Aborted()", "memory access out of
// bounds", "Invalid typed array length"), so it is named for what it is.

const OUT_OF_MEMORY = /^(Aborted\(.*\)|memory access out of bounds|Out of memory|Cannot enlarge memory|Invalid typed array length|Array buffer allocation failed)/i;

export function isOutOfMemory(err: unknown): boolean {
  // A wasm trap is a WebAssembly.RuntimeError (name "RuntimeError"); a JS allocation failure a RangeError.
  return err instanceof Error && (err.name === 'RuntimeError' || err instanceof RangeError) && OUT_OF_MEMORY.test(err.message);
}

/**
 * A problem with what the user gave (a file, a path, a value only the run can judge): its
 * message is the whole story, so a failed run stores it without a stack trace.
 */
export class UserInputError extends Error {
  constructor(message: string) { super(message); this.name = 'UserInputError'; }
}

/** The message stored with a failed run: its first line is what the CLI and the app show. */
export function describeFailure(err: unknown): string {
  if (err instanceof UserInputError) return err.message;
  const detail = (err as Error)?.stack ?? String(err);
  if (!isOutOfMemory(err)) return detail;
  return `out of memory: the model needs more than wasm's 4 GB (the backend said "${(err as Error).message}"); ` +
    `reduce the batch size, the model width or the number of samples, and run again\n${detail}`;
}
