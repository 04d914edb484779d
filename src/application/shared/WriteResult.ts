/** The outcome of a command, as the interface layer uses it. */
export type WriteResult = {
  /** The resource's id. */
  readonly id: number;
  /** Stream revision after the command, for the `ETag`; undefined only if the stream is empty. */
  readonly revision: bigint | undefined;
  /** Global position of the last appended event, to wait for the projector; undefined for a no-op. */
  readonly position: bigint | undefined;
};
