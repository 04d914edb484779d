/** Request-scoped facts every command carries into the events it appends. */
export type CommandContext = {
  /** The request's `X-Request-Id`; stored as each event's `correlation_id`. */
  readonly correlationId: string;
  /** Unique per handled command; stored as each event's `causation_id`. */
  readonly causationId: string;
  /** From `If-Match`: the stream revision the client last saw. */
  readonly expectedRevision?: bigint;
};
