// Operator logs: one JSON line per event with a severity, as Cloud Logging
// reads them from a function's stdout. The user's deploy log is elsewhere.
export type Severity = 'DEBUG' | 'INFO' | 'WARNING' | 'ERROR';

export function log(
  severity: Severity,
  message: string,
  fields: Record<string, unknown> = {},
) {
  if (severity === 'DEBUG' && !process.env.SIGYL_DEBUG) return;
  const line = JSON.stringify({ severity, message, ...fields });
  if (severity === 'ERROR' || severity === 'WARNING') console.error(line);
  else console.log(line);
}

export function errorFields(error: unknown) {
  return error instanceof Error
    ? { error: error.message, stack: error.stack }
    : { error: String(error) };
}
