/**
 * Error codes of the device registry (issue 4). Kept beside the registry rather than in
 * devices/contract/errors.ts because they never cross the wire; same shape as that catalogue: a
 * stable code, a message a person can act on, and whether a retry can help. The registry's errors
 * reach admins through the API and the CLI, so each message exists in bokmål (`nb`) and English.
 */
export const REGISTRY_ERROR_CODES = {
  E_REGISTRY_INVALID_INPUT: {
    retriable: false,
    message: 'the request to the registry violates its schema',
    nb: 'forespørselen til registeret er ugyldig',
  },
  E_REGISTRY_UNKNOWN_TORG: {
    retriable: false,
    message: 'the torg is not in the torg model (config/torg.json)',
    nb: 'torget finnes ikke i torgmodellen (config/torg.json)',
  },
  E_REGISTRY_UNKNOWN_PLACE: {
    retriable: false,
    message: 'the zone, entrance or counting line is not in this torg in the torg model',
    nb: 'sonen, inngangen eller tellelinjen finnes ikke på dette torget i torgmodellen',
  },
  E_REGISTRY_UNKNOWN_GATEWAY: {
    retriable: false,
    message: 'the gateway is not registered; register it (provisioning) before it announces devices',
    nb: 'gatewayen er ikke registrert; registrer den (provisjonering) før den melder inn enheter',
  },
  E_REGISTRY_UNKNOWN_DEVICE: {
    retriable: false,
    message: 'no device with this hardware id has been announced',
    nb: 'ingen enhet med denne maskinvare-IDen er meldt inn',
  },
  E_REGISTRY_DECOMMISSIONED: {
    retriable: false,
    message: 'the device is decommissioned and cannot be assigned again',
    nb: 'enheten er tatt ut av drift og kan ikke tilordnes på nytt',
  },
  E_REGISTRY_TORG_MISMATCH: {
    retriable: false,
    message: 'the device belongs to another torg; assign it there, or pass moveTorg to move it to this torg',
    nb: 'enheten hører til et annet torg; tilordne den der, eller angi moveTorg for å flytte den til dette torget',
  },
  E_REGISTRY_HISTORY_ORDER: {
    retriable: false,
    message: 'the instant is not after the start of the current assignment; history is never rewritten',
    nb: 'tidspunktet er ikke etter starten på gjeldende tilordning; historikken skrives aldri om',
  },
  E_REGISTRY_SCHEMA_NEWER: {
    retriable: false,
    message: 'the registry database was written by a newer version of the platform; upgrade instead of downgrading',
    nb: 'registerdatabasen er skrevet av en nyere versjon av plattformen; oppgrader i stedet for å nedgradere',
  },
  E_REGISTRY_CLOSED: {
    retriable: false,
    message: 'the registry is closed (service shutting down)',
    nb: 'registeret er lukket (tjenesten stopper)',
  },
  E_REGISTRY_UNAVAILABLE: {
    retriable: true,
    message: 'the registry store is busy or failing (locked, I/O error, disk full); the operation can be retried',
    nb: 'registerlageret er opptatt eller feiler (låst, I/O-feil, full disk); operasjonen kan prøves igjen',
  },
} as const satisfies Record<string, { retriable: boolean; message: string; nb: string }>;

export type RegistryErrorCode = keyof typeof REGISTRY_ERROR_CODES;

export class RegistryError extends Error {
  readonly code: RegistryErrorCode;
  readonly retriable: boolean;
  readonly detail: string | undefined;
  constructor(code: RegistryErrorCode, detail?: string, options?: { cause?: unknown }) {
    const base = `${code}: ${REGISTRY_ERROR_CODES[code].message}`;
    super(detail ? `${base}: ${detail}` : base, options);
    this.name = 'RegistryError';
    this.code = code;
    this.retriable = REGISTRY_ERROR_CODES[code].retriable;
    this.detail = detail;
  }

  /** The message for a person, in bokmål (default) or English; the detail (ids) is the same in both. */
  describe(lang: 'nb' | 'en' = 'nb'): string {
    const text = lang === 'nb' ? REGISTRY_ERROR_CODES[this.code].nb : REGISTRY_ERROR_CODES[this.code].message;
    return this.detail ? `${text}: ${this.detail}` : text;
  }
}
