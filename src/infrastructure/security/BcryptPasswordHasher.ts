import bcrypt from 'bcrypt';
import type { PasswordHasher } from '../../application/ports/PasswordHasher';

/** bcrypt's asynchronous API hashes on libuv's thread pool, so the event loop stays free. */
export class BcryptPasswordHasher implements PasswordHasher {
  constructor(private readonly cost: number) {}

  hash(password: string): Promise<string> {
    return bcrypt.hash(password, this.cost);
  }
}
