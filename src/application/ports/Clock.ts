/** The time source; commands take their timestamps from it so the domain never reads the clock. */
export interface Clock {
  /** The current instant as an ISO-8601 UTC string. */
  now(): string;
}
