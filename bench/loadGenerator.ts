import http from 'node:http';

export type LoadOptions = {
  readonly port: number;
  readonly method: 'GET' | 'POST';
  /** Path of each request; called once per request, so it may vary. */
  readonly path: () => string;
  /** JSON body of each request, for POST. */
  readonly body?: () => unknown;
  /** Status a request must return to count as a success. */
  readonly expectedStatus: number;
  readonly connections: number;
  /** Requests stop being sent after this many ms. */
  readonly durationMs: number;
  /** Requests stop being sent after this many, whichever bound comes first. */
  readonly maxRequests: number;
  /** Called with the parsed body of each successful response. */
  readonly onSuccess?: (body: unknown) => void;
};

export type LoadResult = {
  readonly successes: number;
  readonly failures: number;
  readonly elapsedMs: number;
  /** Successful responses per second of wall-clock time. */
  readonly requestsPerSecond: number;
  /** Latency percentiles of successful requests, in ms. */
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** First unexpected status or error, to show why a run failed. */
  readonly firstFailure: string | undefined;
};

/**
 * Sends requests to 127.0.0.1 from `connections` concurrent loops over keep-alive sockets,
 * each loop waiting for its response before it sends the next request (closed-loop load).
 */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: options.connections });
  const latenciesMs: number[] = [];
  let failures = 0;
  let sent = 0;
  let firstFailure: string | undefined;
  const started = performance.now();
  const deadline = started + options.durationMs;

  const loop = async (): Promise<void> => {
    while (sent < options.maxRequests && performance.now() < deadline) {
      sent += 1;
      const requestStarted = performance.now();
      try {
        const { status, text } = await sendRequest(agent, options);
        if (status === options.expectedStatus) {
          latenciesMs.push(performance.now() - requestStarted);
          options.onSuccess?.(JSON.parse(text));
        } else {
          failures += 1;
          firstFailure ??= `status ${status}: ${text.slice(0, 200)}`;
        }
      } catch (error) {
        failures += 1;
        firstFailure ??= error instanceof Error ? error.message : String(error);
      }
    }
  };

  await Promise.all(Array.from({ length: options.connections }, loop));
  const elapsedMs = performance.now() - started;
  agent.destroy();

  latenciesMs.sort((a, b) => a - b);
  return {
    successes: latenciesMs.length,
    failures,
    elapsedMs,
    requestsPerSecond: (latenciesMs.length * 1000) / elapsedMs,
    p50Ms: percentile(latenciesMs, 0.5),
    p99Ms: percentile(latenciesMs, 0.99),
    firstFailure,
  };
}

/** Nearest-rank percentile of sorted values; NaN when there are none. */
export function percentile(sorted: readonly number[], fraction: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(fraction * sorted.length) - 1));
  return sorted[rank] ?? Number.NaN;
}

const REQUEST_TIMEOUT_MS = 30_000;

function sendRequest(agent: http.Agent, options: LoadOptions): Promise<{ status: number; text: string }> {
  const payload = options.body === undefined ? undefined : JSON.stringify(options.body());
  const headers: http.OutgoingHttpHeaders =
    payload === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) };

  return new Promise((resolve, reject) => {
    const request = http.request(
      { host: '127.0.0.1', port: options.port, method: options.method, path: options.path(), agent, headers, timeout: REQUEST_TIMEOUT_MS },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
        response.on('error', reject);
      },
    );
    request.on('timeout', () => request.destroy(new Error(`request timed out after ${REQUEST_TIMEOUT_MS} ms`)));
    request.on('error', reject);
    request.end(payload);
  });
}
