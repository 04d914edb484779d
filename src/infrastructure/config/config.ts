import Joi from 'joi';

/** Settings read from environment variables; the only place that reads `process.env`. */
export type Config = {
  readonly port: number;
  readonly host: string;
  readonly dataDir: string;
  readonly eventStoreConnectionString: string | undefined;
  readonly mongoDbUri: string | undefined;
  readonly rabbitMqUrl: string;
  readonly logLevel: string;
  readonly bcryptCost: number;
  readonly readYourWritesTimeoutMs: number;
  readonly retryInitialDelayMs: number;
  readonly retryMaxDelayMs: number;
  readonly shutdownGraceMs: number;
  readonly stallThresholdMs: number;
  readonly roles: readonly Role[];
  readonly leaseTtlMs: number;
  readonly instanceId: string | undefined;
};

/** The parts a process can run: the HTTP API, the projector, the outbox relay. */
export const ROLES = ['api', 'projector', 'relay'] as const;
export type Role = (typeof ROLES)[number];

type Setting = { readonly variable: string; readonly key: keyof Config; readonly description: string; readonly schema: Joi.Schema };

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** Every setting with its variable, description and default; the README's table mirrors it. */
export const SETTINGS: readonly Setting[] = [
  { variable: 'PORT', key: 'port', description: 'HTTP port', schema: Joi.number().integer().min(0).max(65535).default(3000) },
  { variable: 'HOST', key: 'host', description: 'HTTP listen address', schema: Joi.string().default('0.0.0.0') },
  {
    variable: 'DATA_DIR',
    key: 'dataDir',
    description: 'folder of the embedded event store',
    schema: Joi.string().default('./data'),
  },
  {
    variable: 'EVENTSTORE_CONNECTION_STRING',
    key: 'eventStoreConnectionString',
    description: 'EventStoreDB connection string; unset means the embedded store',
    schema: Joi.string().pattern(/^esdb(\+discover)?:\/\//).message('must start with esdb:// or esdb+discover://'),
  },
  {
    variable: 'MONGODB_URI',
    key: 'mongoDbUri',
    description: 'MongoDB connection string; unset means in-memory read models',
    schema: Joi.string().pattern(/^mongodb(\+srv)?:\/\//).message('must start with mongodb:// or mongodb+srv://'),
  },
  {
    variable: 'RABBITMQ_URL',
    key: 'rabbitMqUrl',
    description: 'RabbitMQ URL',
    schema: Joi.string().pattern(/^amqps?:\/\//).message('must start with amqp:// or amqps://').default('amqp://guest:guest@127.0.0.1:5672'),
  },
  { variable: 'LOG_LEVEL', key: 'logLevel', description: 'pino log level', schema: Joi.string().valid(...LOG_LEVELS).default('info') },
  {
    variable: 'BCRYPT_COST',
    key: 'bcryptCost',
    description: 'bcrypt cost factor (log2 of rounds)',
    schema: Joi.number().integer().min(4).max(15).default(10),
  },
  {
    variable: 'READ_YOUR_WRITES_TIMEOUT_MS',
    key: 'readYourWritesTimeoutMs',
    description: 'how long a command waits for the projector before it responds, in ms',
    schema: Joi.number().integer().min(0).max(60_000).default(5000),
  },
  {
    variable: 'RETRY_INITIAL_DELAY_MS',
    key: 'retryInitialDelayMs',
    description: 'first delay of the projector and relay retries, in ms',
    schema: Joi.number().integer().min(1).max(60_000).default(200),
  },
  {
    variable: 'RETRY_MAX_DELAY_MS',
    key: 'retryMaxDelayMs',
    description: 'maximum delay of the projector and relay retries, in ms',
    schema: Joi.number().integer().min(1).max(300_000).default(5000),
  },
  {
    variable: 'ROLES',
    key: 'roles',
    description: 'comma-separated parts this process runs: api, projector, relay',
    schema: Joi.array()
      .items(Joi.string().valid(...ROLES))
      .min(1)
      .unique()
      .default([...ROLES]),
  },
  {
    variable: 'LEASE_TTL_MS',
    key: 'leaseTtlMs',
    description: 'lease lifetime of the projector and relay across instances: the longest handover after a holder dies, in ms',
    schema: Joi.number().integer().min(300).max(300_000).default(10_000),
  },
  {
    variable: 'INSTANCE_ID',
    key: 'instanceId',
    description: 'name of this process in leases and logs; default: host name, process id and a random suffix',
    schema: Joi.string().pattern(/^[A-Za-z0-9._:-]{1,128}$/).message('must be 1 to 128 letters, digits, ".", "_", ":" or "-"'),
  },
  {
    variable: 'SHUTDOWN_GRACE_MS',
    key: 'shutdownGraceMs',
    description: 'time from SIGTERM to exit, in ms: in-flight requests get the first half, then the workers stop and connections close; a shutdown still running at the end exits with status 1',
    schema: Joi.number().integer().min(0).max(300_000).default(10_000),
  },
  {
    variable: 'STALL_THRESHOLD_MS',
    key: 'stallThresholdMs',
    description: 'how long a projector or relay checkpoint may stay unchanged while events wait before readiness reports the worker stalled, in ms',
    schema: Joi.number().integer().min(100).max(3_600_000).default(30_000),
  },
];

export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`invalid configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

/** Reads and validates the settings; throws `ConfigError` listing every invalid variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const problems: string[] = [];
  const values: Record<string, unknown> = {};

  for (const { variable, key, description, schema } of SETTINGS) {
    const raw = env[variable];
    const trimmed = raw === undefined || raw.trim() === '' ? undefined : raw.trim();
    const input = variable === 'ROLES' && trimmed !== undefined ? trimmed.split(',').map((role) => role.trim()) : trimmed;
    const result = schema.validate(input, { convert: true }) as Joi.ValidationResult<unknown>;
    if (result.error !== undefined) {
      const { error } = result;
      const shown = isSecret(variable) ? '(value hidden)' : JSON.stringify(raw);
      const range = describeNumberRange(schema);
      const accepted = range === undefined ? '' : `; accepted: ${range}`;
      problems.push(`${variable} ${error.message.replace(/^"value" /, '')} (got ${shown}${accepted}; ${description})`);
      continue;
    }
    values[key] = result.value;
  }

  const { retryInitialDelayMs, retryMaxDelayMs } = values as Partial<Config>;
  if (retryInitialDelayMs !== undefined && retryMaxDelayMs !== undefined && retryInitialDelayMs > retryMaxDelayMs) {
    problems.push(
      `RETRY_INITIAL_DELAY_MS (${retryInitialDelayMs}) must not be greater than RETRY_MAX_DELAY_MS (${retryMaxDelayMs})`,
    );
  }

  if (problems.length > 0) throw new ConfigError(problems);
  return values as Config;
}

/** States a numeric setting's accepted range, e.g. "an integer from 0 to 65535"; undefined for other settings. */
function describeNumberRange(schema: Joi.Schema): string | undefined {
  const { type, rules = [] } = schema.describe() as { type?: string; rules?: { name: string; args?: { limit?: number } }[] };
  if (type !== 'number') return undefined;

  const limit = (name: string): number | undefined => rules.find((rule) => rule.name === name)?.args?.limit;
  const kind = rules.some((rule) => rule.name === 'integer') ? 'an integer' : 'a number';
  const min = limit('min');
  const max = limit('max');
  if (min !== undefined && max !== undefined) return `${kind} from ${min} to ${max}`;
  if (min !== undefined) return `${kind} of at least ${min}`;
  if (max !== undefined) return `${kind} of at most ${max}`;
  return kind;
}

/** Connection strings may embed passwords, so their values never appear in messages. */
function isSecret(variable: string): boolean {
  return /URL|URI|CONNECTION_STRING/.test(variable);
}
