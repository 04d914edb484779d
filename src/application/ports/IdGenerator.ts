/** Generates unique ids for events and requests (UUID v4). */
export interface IdGenerator {
  newId(): string;
}
