/** One-way password hashing. Implementations must not block the event loop. */
export interface PasswordHasher {
  hash(password: string): Promise<string>;
}
