import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * Field names that may carry personal data or secrets. Logs are structured and must never carry names,
 * phones, e-mails of children and parents, nor tokens and passwords: these paths are censored at any
 * depth we log at (pino redaction needs explicit paths; we log flat objects, one level deep).
 */
const SENSITIVE_KEYS = [
  'password',
  'token',
  'accessToken',
  'secret',
  'secrets',
  'authorization',
  'cookie',
  'phone',
  'email',
  'telegram',
  'lastName',
  'firstName',
  'middleName',
  'fullName',
  'name',
  'birthDate',
];

const REDACT_PATHS = [
  ...SENSITIVE_KEYS,
  ...SENSITIVE_KEYS.map((k) => `*.${k}`),
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
];

/** The process logger: JSON lines on stdout, personal data and secrets censored. */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'journal-bridge' },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination,
  );
}
