import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { EventStore } from '../../application/ports/EventStore';
import type { Logger } from '../../application/ports/Logger';
import type { SubscriptionWorkerStatus } from '../../application/shared/SubscriptionWorker';
import { SubscriptionLag } from './SubscriptionLag';

/** A subscription worker whose progress the metrics report. */
export type TrackedWorker = {
  /** Label value, e.g. `projector`. */
  readonly worker: string;
  readonly streamPrefixes: readonly string[];
  /** The worker's status in this process; undefined when this process does not run it. */
  status(): SubscriptionWorkerStatus | undefined;
  /** The worker's stored checkpoint, wherever it runs; undefined before its first batch. */
  checkpoint(): Promise<bigint | undefined>;
};

/** One HTTP request as the HTTP layer reports it; `route` is a template such as `/users/{user_id}`. */
export type HttpRequestObservation = {
  readonly method: string;
  readonly route: string;
  readonly status: number;
  readonly durationSeconds: number;
};

type WorkerProbe = TrackedWorker & { readonly lag: SubscriptionLag; lastResubscriptions: number; measuring: boolean };

export type ShopstreamMetricsOptions = {
  readonly logger: Logger;
  /** Adds prom-client's Node.js process metrics (CPU, memory, event loop, GC). Default true. */
  readonly processMetrics?: boolean;
};

/**
 * The metrics of one shopstream instance, in a registry of its own rather than prom-client's
 * global one, so several apps in one process (as in the tests) keep separate counts. Gauges
 * that need I/O (lag, broker connection) are refreshed when `/metrics` is scraped. It has the
 * shape of the HTTP layer's `HttpMetrics` port without importing it, so this layer does not
 * depend on the interfaces layer.
 */
export class ShopstreamMetrics {
  readonly registry = new Registry();
  private readonly logger: Logger;
  private readonly workers: WorkerProbe[] = [];
  private eventStore: EventStore | undefined;
  private brokerConnected: (() => boolean) | undefined;
  private headReadable = true;

  private readonly httpDuration = new Histogram({
    name: 'shopstream_http_request_duration_seconds',
    help: 'HTTP request duration in seconds, by method, route template and status.',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  private readonly errors = new Counter({
    name: 'shopstream_errors_total',
    help: 'Failures by component: 5xx responses (http), subscription worker failures (projector, outbox-relay), failed broker publishes (broker).',
    labelNames: ['component'] as const,
    registers: [this.registry],
  });
  private readonly eventsAppended = new Counter({
    name: 'shopstream_events_appended_total',
    help: 'Events this process appended to the event store, by event type; helper streams (id sequences, reservations, relay checkpoints) included.',
    labelNames: ['type'] as const,
    registers: [this.registry],
  });
  private readonly messagesPublished = new Counter({
    name: 'shopstream_messages_published_total',
    help: 'Messages the outbox relay tried to publish, counting every attempt, including those that failed before reaching the broker.',
    registers: [this.registry],
  });
  private readonly messagesConfirmed = new Counter({
    name: 'shopstream_messages_confirmed_total',
    help: 'Messages the broker confirmed to the outbox relay.',
    registers: [this.registry],
  });
  private readonly brokerReconnects = new Counter({
    name: 'shopstream_broker_reconnects_total',
    help: 'Times the publisher opened a new broker connection after having been connected before.',
    registers: [this.registry],
  });
  private readonly brokerUp = new Gauge({
    name: 'shopstream_broker_connected',
    help: '1 while the publisher has an open broker connection, else 0.',
    registers: [this.registry],
  });
  private readonly resubscriptions = new Counter({
    name: 'shopstream_subscription_resubscriptions_total',
    help: 'Times a subscription worker resubscribed after a failure or an unexpected end of its subscription.',
    labelNames: ['worker'] as const,
    registers: [this.registry],
  });
  private readonly workerUp = new Gauge({
    name: 'shopstream_subscription_running',
    help: '1 while the worker runs in this process, 0 while it retries or is stopped; absent where this process does not run it.',
    labelNames: ['worker'] as const,
    registers: [this.registry],
  });
  private readonly lagEvents = new Gauge({
    name: 'shopstream_subscription_lag_events',
    help: 'Events the worker has still to handle; counted in at most 1000 log events, so it saturates there.',
    labelNames: ['worker'] as const,
    registers: [this.registry],
  });
  private readonly lagSeconds = new Gauge({
    name: 'shopstream_subscription_lag_seconds',
    help: 'Age in seconds of the oldest event the worker has still to handle; 0 when it is caught up.',
    labelNames: ['worker'] as const,
    registers: [this.registry],
  });
  private readonly lagPositions = new Gauge({
    name: 'shopstream_subscription_lag_positions',
    help: 'Head position of the log minus the worker position, in log positions: events on the embedded store, bytes on EventStoreDB.',
    labelNames: ['worker'] as const,
    registers: [this.registry],
  });

  constructor(options: ShopstreamMetricsOptions) {
    this.logger = options.logger;
    if (options.processMetrics ?? true) collectDefaultMetrics({ register: this.registry });
  }

  observeHttpRequest({ method, route, status, durationSeconds }: HttpRequestObservation): void {
    this.httpDuration.observe({ method, route, status: String(status) }, durationSeconds);
    if (status >= 500) this.errors.inc({ component: 'http' });
  }

  countAppendedEvents(types: readonly string[]): void {
    for (const type of types) this.eventsAppended.inc({ type });
  }

  countPublished(count: number): void {
    this.messagesPublished.inc(count);
  }

  countConfirmed(count: number): void {
    this.messagesConfirmed.inc(count);
  }

  countPublishFailure(): void {
    this.errors.inc({ component: 'broker' });
  }

  countBrokerReconnect(): void {
    this.brokerReconnects.inc();
  }

  /** Reports the broker connection state at each scrape. */
  observeBroker(isConnected: () => boolean): void {
    this.brokerConnected = isConnected;
  }

  /** Reports a worker's state and lag at each scrape; `eventStore` is the log it follows, the same for every worker. */
  trackWorker(worker: TrackedWorker, eventStore: EventStore): void {
    this.eventStore ??= eventStore;
    this.workers.push({ ...worker, lag: new SubscriptionLag(eventStore, worker.streamPrefixes), lastResubscriptions: 0, measuring: true });
  }

  async render(): Promise<{ contentType: string; body: string }> {
    await this.refresh();
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }

  private async refresh(): Promise<void> {
    if (this.brokerConnected !== undefined) this.brokerUp.set(this.brokerConnected() ? 1 : 0);
    if (this.workers.length === 0 || this.eventStore === undefined) return;

    const head = await this.eventStore.headPosition().then(
      (position) => {
        this.headReadable = true;
        return position;
      },
      (error: unknown) => {
        if (this.headReadable) this.logger.warn({ err: error }, 'metrics could not read the head of the log; lag series left out');
        this.headReadable = false;
        return null;
      },
    );
    await Promise.all(this.workers.map((worker) => this.refreshWorker(worker, head)));
  }

  private async refreshWorker(probe: WorkerProbe, head: bigint | undefined | null): Promise<void> {
    const labels = { worker: probe.worker };
    const status = probe.status();
    if (status === undefined) {
      this.workerUp.remove(labels);
    } else {
      this.workerUp.set(labels, status.state === 'running' ? 1 : 0);
      // A restarted worker object counts from 0 again, so a drop means "all of these are new".
      const added = status.resubscriptions >= probe.lastResubscriptions ? status.resubscriptions - probe.lastResubscriptions : status.resubscriptions;
      probe.lastResubscriptions = status.resubscriptions;
      if (added > 0) {
        this.resubscriptions.inc(labels, added);
        this.errors.inc({ component: probe.worker }, added);
      }
    }

    try {
      if (head === null) throw new Error('head of the log unknown');
      const reading = await probe.lag.measure(await probe.checkpoint(), head);
      this.lagEvents.set(labels, reading.events);
      this.lagSeconds.set(labels, reading.seconds);
      // A difference of positions; Prometheus stores every value as a float64 anyway.
      this.lagPositions.set(labels, Number(reading.positions));
      probe.measuring = true;
    } catch (error) {
      // An absent series means "unknown", while a stale value would claim to be the current lag.
      this.lagEvents.remove(labels);
      this.lagSeconds.remove(labels);
      this.lagPositions.remove(labels);
      if (probe.measuring && head !== null) this.logger.warn({ err: error, worker: probe.worker }, 'metrics could not measure the lag of a worker');
      probe.measuring = false;
    }
  }
}
