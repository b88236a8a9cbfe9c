// JSON cannot carry ±Infinity or NaN: JSON.stringify writes them as null, and a panel then
// calls .toFixed on null. Every JSON boundary (the WebSocket, `--json` output, the run
// store, results files, reports) uses this one encoding instead: a non-finite number
// travels as the string "Infinity", "-Infinity" or "NaN" and is read back as that number.
// (A string value that is exactly one of those three words is read back as the number too.)

const NON_FINITE: Record<string, number> = { Infinity: Infinity, '-Infinity': -Infinity, NaN: NaN };

export function stringifyJson(value: unknown, space?: number): string {
  return JSON.stringify(value, (_key, v) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v), space);
}

export function parseJson(text: string): unknown {
  return JSON.parse(text, (_key, v) => (typeof v === 'string' && Object.hasOwn(NON_FINITE, v) ? NON_FINITE[v] : v));
}
