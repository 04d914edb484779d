import { BODY_LIMIT_BYTES } from './routeSupport';
import { auditPaths, auditSchemas } from './openapi/auditPaths';
import { operationsPaths } from './openapi/operationsPaths';
import { resourcePaths } from './openapi/resourcePaths';
import { componentSchemas } from './openapi/schemas';
import type { OpenApiDocument } from './openapi/types';

export type { OpenApiDocument } from './openapi/types';

const DESCRIPTION = `Event-sourced CQRS backend of a marketplace: users, products and orders.

- **Trailing slashes.** Every path also accepts a trailing slash (\`/users/\` is \`/users\`); each is listed once, without it.
- **Errors** share one shape, \`{"status":"error","error":{"code","message","details"?}}\`, and never carry stack traces.
  Each response lists the codes it can carry.
- **Unknown paths** answer 404 \`not_found\`. A method a path does not list answers 405 \`method_not_allowed\` with \`Allow\`;
  \`HEAD\` works wherever \`GET\` does.
- **Request bodies** are JSON objects of at most ${BODY_LIMIT_BYTES / 1024} KiB. Unknown fields are rejected by name, and types are never converted:
  \`"100"\` is not a number.
- **Consistency.** GET responses carry \`ETag\` (the stream revision); PUT and DELETE honour \`If-Match\`.
  A command answers after its change is readable, so a GET right after it sees the change.
- **X-Request-Id** is echoed on every response, generated when absent or malformed.`;

/**
 * The OpenAPI 3.1 description of the whole HTTP API, served at `/openapi.json`. The HTTP test
 * suites validate every response they receive against it, so it cannot drift from the app
 * without a test failing.
 */
export const openApiDocument: OpenApiDocument = {
  openapi: '3.1.0',
  info: { title: 'shopstream', version: '0.1.0', description: DESCRIPTION },
  tags: [
    { name: 'users', description: 'Registration and profiles. Passwords never leave the service.' },
    { name: 'products', description: 'The product catalogue.' },
    { name: 'orders', description: 'Orders and their status; changes are published to RabbitMQ.' },
    { name: 'audit', description: 'Event history and past states, read from the event store.' },
    { name: 'operations', description: 'Health, metrics and this description.' },
  ],
  paths: { ...resourcePaths, ...auditPaths, ...operationsPaths },
  components: { schemas: { ...componentSchemas, ...auditSchemas } },
};
