import { InMemoryReadModelStore } from '../../src/infrastructure/readmodel/InMemoryReadModelStore';
import { describeReadModelStoreContract } from '../contract/readModelStoreContract';

describeReadModelStoreContract('InMemoryReadModelStore', () => {
  const store = new InMemoryReadModelStore();
  return Promise.resolve({ store, cleanup: () => store.close() });
});
