/**
 * pino `redact` paths for every service (issue 4: "secrets never logged"). A second line of defence:
 * the code logs principals by name and never a token, key or password; this censors one if a future
 * log call passes a whole config, request or credentials object by mistake.
 * https://getpino.io/#/docs/redaction
 */
export const LOG_REDACT = {
  paths: [
    'password',
    'token',
    'key',
    'secret',
    'authorization',
    '*.password',
    '*.token',
    '*.key',
    '*.secret',
    '*.authorization',
    'req.headers.authorization',
    'req.headers.cookie',
    'headers.authorization',
    'headers.cookie',
  ],
  censor: '[redacted]',
};
