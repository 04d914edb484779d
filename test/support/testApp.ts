import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../src/infrastructure/config/config';
import { createLogger } from '../../src/infrastructure/logging/createLogger';
import { startShopstream, type RunningShopstream } from '../../src/shopstream';
import { documentValidator } from './openApiResponseValidator';

export type TestResponse = {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  /** The parsed JSON body, or undefined when the body is not JSON. */
  readonly body: any;
};

export type TestApp = {
  readonly baseUrl: string;
  readonly dataDir: string;
  /** Every log line the app wrote, raw. */
  readonly logLines: string[];
  /**
   * Sends a JSON request. Every response of `request` and `requestRaw` is checked against the
   * OpenAPI document, and one that does not match it fails the call.
   */
  request(method: string, urlPath: string, body?: unknown, headers?: Record<string, string>): Promise<TestResponse>;
  /** Sends a raw body with the given headers, for malformed and non-JSON bodies. */
  requestRaw(method: string, urlPath: string, rawBody: string | undefined, headers: Record<string, string>): Promise<TestResponse>;
  /** Position of the newest event in the log, read through the readiness endpoint. */
  headPosition(): Promise<string | null>;
  stop(): Promise<void>;
};

export type TestAppOptions = {
  readonly rabbitMqUrl: string;
  /** Reuse a data folder, e.g. to restart on the same store; a new temporary one otherwise. */
  readonly dataDir?: string;
  /** Extra environment variables, as the app reads them at start. */
  readonly env?: Record<string, string>;
};

/** Starts shopstream in this process on an ephemeral port with an embedded store in a temporary folder. */
export async function startTestApp(options: TestAppOptions): Promise<TestApp> {
  const dataDir = options.dataDir ?? makeDataDir();
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    DATA_DIR: dataDir,
    RABBITMQ_URL: options.rabbitMqUrl,
    LOG_LEVEL: 'debug',
    BCRYPT_COST: '4',
    RETRY_INITIAL_DELAY_MS: '50',
    RETRY_MAX_DELAY_MS: '500',
    SHUTDOWN_GRACE_MS: '10000',
    ...options.env,
  });
  const logLines: string[] = [];
  const logger = createLogger(config.logLevel, { write: (line: string) => void logLines.push(line) });
  const running: RunningShopstream = await startShopstream(config, logger);

  const requestRaw = async (
    method: string,
    urlPath: string,
    rawBody: string | undefined,
    headers: Record<string, string>,
  ): Promise<TestResponse> => {
    const response = await fetch(`${running.baseUrl}${urlPath}`, { method, headers, body: rawBody });
    const text = await response.text();
    let body: unknown;
    try {
      body = text === '' ? undefined : JSON.parse(text);
    } catch {
      body = undefined;
    }
    documentValidator().assertDocumented({ method, urlPath, status: response.status, headers: response.headers, text });
    return { status: response.status, headers: response.headers, text, body };
  };

  return {
    baseUrl: running.baseUrl,
    dataDir,
    logLines,
    requestRaw,
    request: (method, urlPath, body, headers = {}) =>
      requestRaw(method, urlPath, body === undefined ? undefined : JSON.stringify(body), {
        ...(body !== undefined && { 'content-type': 'application/json' }),
        ...headers,
      }),
    async headPosition() {
      const response = await requestRaw('GET', '/health/ready', undefined, {});
      return (response.body as { head_position: string | null }).head_position;
    },
    stop: () => running.stop(),
  };
}

/** Makes a temporary data folder for one app (and its restarts). */
export function makeDataDir(): string {
  return mkdtempSync(path.join(tmpdir(), 'shopstream-test-'));
}

/** Removes a temporary data folder made by `makeDataDir` or `startTestApp`. */
export function removeDataDir(dataDir: string): void {
  rmSync(dataDir, { recursive: true, force: true });
}

/** Polls `check` until it returns true, failing with `description` after `timeoutMs`. */
export async function waitUntil(check: () => boolean | Promise<boolean>, timeoutMs: number, description: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting until ${description}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
