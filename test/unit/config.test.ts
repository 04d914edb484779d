import { ConfigError, loadConfig, type Config } from '../../src/infrastructure/config/config';

const DEFAULTS: Config = {
  port: 3000,
  host: '0.0.0.0',
  dataDir: './data',
  eventStoreConnectionString: undefined,
  mongoDbUri: undefined,
  rabbitMqUrl: 'amqp://guest:guest@127.0.0.1:5672',
  logLevel: 'info',
  bcryptCost: 10,
  readYourWritesTimeoutMs: 5000,
  retryInitialDelayMs: 200,
  retryMaxDelayMs: 5000,
  shutdownGraceMs: 10_000,
  stallThresholdMs: 30_000,
  roles: ['api', 'projector', 'relay'],
  leaseTtlMs: 10_000,
  instanceId: undefined,
};

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/**
 * Invalid values per variable, and what the message must list as accepted. Invalid values are
 * chosen so that none contains an accepted value, so finding one proves the message states it.
 */
const INVALID_SETTINGS: ReadonlyArray<readonly [variable: string, invalid: readonly string[], accepted: readonly string[]]> = [
  ['PORT', ['abc', '-1', '65536', '80.5'], ['0', '65535']],
  ['LOG_LEVEL', ['loud', 'verbose'], LOG_LEVELS],
  ['EVENTSTORE_CONNECTION_STRING', ['http://127.0.0.1:2113', 'tcp://127.0.0.1:1113'], ['esdb://', 'esdb+discover://']],
  ['MONGODB_URI', ['postgres://127.0.0.1/shop', '127.0.0.1:27017'], ['mongodb://', 'mongodb+srv://']],
  ['RABBITMQ_URL', ['http://127.0.0.1:15672', 'localhost'], ['amqp://', 'amqps://']],
  ['BCRYPT_COST', ['3', '16', 'ten'], ['4', '15']],
  ['READ_YOUR_WRITES_TIMEOUT_MS', ['-1', '60001', 'soon'], ['0', '60000']],
  ['RETRY_INITIAL_DELAY_MS', ['0', '60001', 'fast'], ['1', '60000']],
  ['RETRY_MAX_DELAY_MS', ['0', '300001', 'slow'], ['1', '300000']],
  ['SHUTDOWN_GRACE_MS', ['-5', '300001', 'later'], ['0', '300000']],
  ['STALL_THRESHOLD_MS', ['99', '3600001', 'never'], ['100', '3600000']],
];

const SECRET_VARIABLES = ['EVENTSTORE_CONNECTION_STRING', 'MONGODB_URI', 'RABBITMQ_URL'];

function configErrorOf(env: NodeJS.ProcessEnv): ConfigError {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error(`loadConfig accepted ${JSON.stringify(env)}`);
}

/** Reports whether `text` contains `value` as a whole token, also when its digit groups are separated by "," or "_". */
function mentions(text: string, value: string): boolean {
  const normalized = text.replace(/(\d)[,_](?=\d{3}\b)/g, '$1');
  const escaped = value.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  return new RegExp(`(^|[^\\w.+-])${escaped}($|[^\\w])`).test(normalized);
}

describe('loadConfig defaults', () => {
  it('uses defaults for empty env', () => {
    expect(loadConfig({})).toEqual(DEFAULTS);
  });

  it('treats blank values as unset', () => {
    expect(loadConfig({ PORT: '', LOG_LEVEL: '   ', MONGODB_URI: '', EVENTSTORE_CONNECTION_STRING: ' ' })).toEqual(DEFAULTS);
  });

  it('leaves embedded defaults unset', () => {
    const config = loadConfig({});

    expect(config.eventStoreConnectionString).toBeUndefined();
    expect(config.mongoDbUri).toBeUndefined();
  });

  it('ignores unrelated variables', () => {
    expect(loadConfig({ HOME: '/root', NODE_ENV: 'production' })).toEqual(DEFAULTS);
  });
});

describe('loadConfig valid values', () => {
  it('reads every variable', () => {
    const config = loadConfig({
      PORT: '8080',
      HOST: '127.0.0.1',
      DATA_DIR: '/var/lib/shopstream',
      EVENTSTORE_CONNECTION_STRING: 'esdb://127.0.0.1:2113?tls=false',
      MONGODB_URI: 'mongodb://127.0.0.1:27017/shopstream',
      RABBITMQ_URL: 'amqps://app:secret@broker.example:5671',
      LOG_LEVEL: 'debug',
      BCRYPT_COST: '12',
      READ_YOUR_WRITES_TIMEOUT_MS: '0',
      RETRY_INITIAL_DELAY_MS: '50',
      RETRY_MAX_DELAY_MS: '60000',
      SHUTDOWN_GRACE_MS: '2500',
      STALL_THRESHOLD_MS: '1500',
      ROLES: 'api, relay',
      LEASE_TTL_MS: '3000',
      INSTANCE_ID: 'node-a',
    });

    expect(config).toEqual<Config>({
      port: 8080,
      host: '127.0.0.1',
      dataDir: '/var/lib/shopstream',
      eventStoreConnectionString: 'esdb://127.0.0.1:2113?tls=false',
      mongoDbUri: 'mongodb://127.0.0.1:27017/shopstream',
      rabbitMqUrl: 'amqps://app:secret@broker.example:5671',
      logLevel: 'debug',
      bcryptCost: 12,
      readYourWritesTimeoutMs: 0,
      retryInitialDelayMs: 50,
      retryMaxDelayMs: 60000,
      shutdownGraceMs: 2500,
      stallThresholdMs: 1500,
      roles: ['api', 'relay'],
      leaseTtlMs: 3000,
      instanceId: 'node-a',
    });
  });

  it('accepts alternative schemes', () => {
    const config = loadConfig({
      EVENTSTORE_CONNECTION_STRING: 'esdb+discover://cluster.example:2113',
      MONGODB_URI: 'mongodb+srv://cluster.example/shopstream',
      RABBITMQ_URL: 'amqp://127.0.0.1',
    });

    expect(config.eventStoreConnectionString).toBe('esdb+discover://cluster.example:2113');
    expect(config.mongoDbUri).toBe('mongodb+srv://cluster.example/shopstream');
    expect(config.rabbitMqUrl).toBe('amqp://127.0.0.1');
  });

  it('trims surrounding whitespace', () => {
    const config = loadConfig({ PORT: ' 4000 ', LOG_LEVEL: 'warn\n', DATA_DIR: '  ./state  ' });

    expect(config.port).toBe(4000);
    expect(config.logLevel).toBe('warn');
    expect(config.dataDir).toBe('./state');
  });

  it('accepts port zero', () => {
    expect(loadConfig({ PORT: '0' }).port).toBe(0);
  });
});

describe('loadConfig invalid values', () => {
  const cases = INVALID_SETTINGS.flatMap(([variable, invalid, accepted]) =>
    invalid.map((value) => [variable, value, accepted] as const),
  );

  it.each(cases)('rejects %s=%j', (variable, value) => {
    const error = configErrorOf({ [variable]: value });

    expect(error).toBeInstanceOf(ConfigError);
    expect(error.problems).toHaveLength(1);
    expect(error.problems[0]?.startsWith(`${variable} `)).toBe(true);
    expect(error.message).toContain(variable);
  });

  it.each(cases)('lists accepted %s values for %j', (variable, value, accepted) => {
    const { message } = configErrorOf({ [variable]: value });

    for (const acceptedValue of accepted) {
      expect({ acceptedValue, mentioned: mentions(message, acceptedValue) }).toEqual({ acceptedValue, mentioned: true });
    }
  });

  it('shows non-secret invalid values', () => {
    const { message } = configErrorOf({ LOG_LEVEL: 'loud' });

    expect(message).toContain('"loud"');
  });

  it('reports every problem at once', () => {
    const error = configErrorOf({ PORT: 'abc', LOG_LEVEL: 'loud', BCRYPT_COST: '99', MONGODB_URI: 'postgres://db/shop' });

    expect(error.problems).toHaveLength(4);
    expect(error.message).toContain('PORT');
    expect(error.message).toContain('LOG_LEVEL');
    expect(error.message).toContain('BCRYPT_COST');
    expect(error.message).toContain('MONGODB_URI');
  });

  it('reports problems in one message', () => {
    const error = configErrorOf({ PORT: 'abc', SHUTDOWN_GRACE_MS: '-1' });

    for (const problem of error.problems) expect(error.message).toContain(problem);
  });
});

describe('loadConfig secrets', () => {
  it.each(SECRET_VARIABLES)('hides %s value', (variable) => {
    const value = 'https://admin:hunter2@db.internal.example:9999/shop?authSource=admin';

    const error = configErrorOf({ [variable]: value });

    expect(error.message).toContain(variable);
    expect(error.message).not.toContain('hunter2');
    expect(error.message).not.toContain('admin');
    expect(error.message).not.toContain('db.internal.example');
    expect(error.problems.join('\n')).not.toContain('hunter2');
  });

  it('hides secrets among other problems', () => {
    const error = configErrorOf({
      PORT: 'abc',
      MONGODB_URI: 'mongo://root:hunter2@127.0.0.1/shop',
      RABBITMQ_URL: 'http://guest:s3cret@127.0.0.1:5672',
    });

    expect(error.problems).toHaveLength(3);
    expect(error.message).not.toContain('hunter2');
    expect(error.message).not.toContain('s3cret');
  });
});

describe('loadConfig retry delays', () => {
  it('rejects initial above maximum', () => {
    expect(() => loadConfig({ RETRY_INITIAL_DELAY_MS: '6000', RETRY_MAX_DELAY_MS: '5000' })).toThrow(
      'RETRY_INITIAL_DELAY_MS (6000) must not be greater than RETRY_MAX_DELAY_MS (5000)',
    );
  });
});

describe('loadConfig roles', () => {
  it('rejects an unknown role', () => {
    expect(() => loadConfig({ ROLES: 'api,worker' })).toThrow(/ROLES .*api, projector, relay/s);
  });

  it('rejects a repeated role', () => {
    expect(() => loadConfig({ ROLES: 'api,api' })).toThrow(ConfigError);
  });
});
