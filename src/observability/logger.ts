import { pino, type Logger } from 'pino';

/**
 * Paths that may carry personal data. Log calls pass ids (caseId, itemKey, department,
 * jobId, attempt), never forms; the redaction is a second line of defence.
 */
const REDACTED_PATHS = [
  'form',
  'case',
  'applicant',
  'materials',
  'body',
  'req.headers.authorization',
  'req.headers["x-lianban-signature"]',
  '*.applicant',
  '*.idNumber',
  '*.phone',
  '*.cardNumber',
  '*.address',
];

/** Creates the process logger; `file` sends the lines to a file instead of stdout. */
export function createLogger(options: { level?: string; name?: string; file?: string } = {}): Logger {
  const settings = {
    name: options.name ?? 'lianban',
    level: options.level ?? process.env.LOG_LEVEL ?? 'info',
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    base: { pid: process.pid },
  };
  return options.file
    ? pino(settings, pino.destination({ dest: options.file, sync: false }))
    : pino(settings);
}

/** Masks an ID number for display: the first six and last four characters stay. */
export function maskIdNumber(idNumber: string): string {
  if (idNumber.length <= 10) return '*'.repeat(idNumber.length);
  return `${idNumber.slice(0, 6)}${'*'.repeat(idNumber.length - 10)}${idNumber.slice(-4)}`;
}

export type { Logger };
