/** An instant as an ISO-8601 UTC string, e.g. `2026-12-04T10:00:00.000Z`. Commands bring it in from the clock. */
export type Timestamp = string;
