import { readdirSync, readFileSync } from 'node:fs';
import bcrypt from 'bcrypt';
import { BcryptPasswordHasher } from '../../src/infrastructure/security/BcryptPasswordHasher';
import { silentLogger } from '../support/silentLogger';

/** Nice values of this process's threads, read from /proc (field 19 of each task's stat line). */
function threadNiceValues(): number[] {
  return readdirSync('/proc/self/task').map((taskId) => {
    const stat = readFileSync(`/proc/self/task/${taskId}/stat`, 'utf8');
    // The command name in brackets may contain spaces, so the fields are counted after its closing bracket.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[16]);
  });
}

const describeOnLinux = process.platform === 'linux' ? describe : describe.skip;

describeOnLinux('BcryptPasswordHasher', () => {
  let hasher: BcryptPasswordHasher;

  afterEach(() => hasher.close());

  it('hashes verifiable passwords', async () => {
    hasher = new BcryptPasswordHasher({ cost: 4, logger: silentLogger, threads: 2 });
    const passwords = Array.from({ length: 7 }, (_unused, index) => `password-${index}`);

    const hashes = await Promise.all(passwords.map((password) => hasher.hash(password)));

    expect(new Set(hashes).size).toBe(passwords.length);
    for (const [index, hash] of hashes.entries()) {
      expect(hash).toMatch(/^\$2b\$04\$/);
      expect(await bcrypt.compare(passwords[index] ?? '', hash)).toBe(true);
    }
  });

  it('runs threads at the lowered priority', async () => {
    const before = threadNiceValues().filter((nice) => nice === 7).length;
    hasher = new BcryptPasswordHasher({ cost: 4, logger: silentLogger, threads: 2, niceness: 7 });

    await Promise.all([hasher.hash('password-a'), hasher.hash('password-b')]);

    expect(threadNiceValues().filter((nice) => nice === 7).length - before).toBe(2);
  });

  it('close rejects pending hashes', async () => {
    hasher = new BcryptPasswordHasher({ cost: 12, logger: silentLogger, threads: 1 });
    const settled = Promise.allSettled(['password-a', 'password-b', 'password-c'].map((password) => hasher.hash(password)));

    await hasher.close();

    const outcomes = await settled;
    expect(outcomes.map((outcome) => outcome.status)).toEqual(['rejected', 'rejected', 'rejected']);
  });

  it('starts no thread before a hash', () => {
    const threadsBefore = readdirSync('/proc/self/task').length;
    hasher = new BcryptPasswordHasher({ cost: 4, logger: silentLogger });

    expect(readdirSync('/proc/self/task').length).toBe(threadsBefore);
  });
});
