import { EsdbEventStore } from '../../src/infrastructure/eventstore/EsdbEventStore';
import { describeEventStoreContract } from '../contract/eventStoreContract';
import { EsdbTestServer } from '../support/esdbTestServer/server';
import { silentLogger } from '../support/silentLogger';

// The client reaches Streams.BatchAppend only when ServerFeatures advertises it, and
// Streams.Append otherwise, so the contract runs once through each append path.
for (const batchAppend of [true, false]) {
  const label = batchAppend ? 'BatchAppend advertised' : 'ServerFeatures UNIMPLEMENTED';

  describeEventStoreContract(`EsdbEventStore on the test server (${label})`, async () => {
    const running = await new EsdbTestServer({ batchAppend }).start();
    const store = new EsdbEventStore({ connectionString: running.connectionString, logger: silentLogger });
    return {
      store,
      cleanup: async () => {
        await store.close();
        await running.stop();
      },
    };
  });
}

const realServer = process.env.ESDB_TEST_CONNECTION_STRING;
if (realServer === undefined || realServer === '') {
  describe('EsdbEventStore on a real EventStoreDB', () => {
    it.skip('runs only when ESDB_TEST_CONNECTION_STRING is set', () => undefined);
  });
} else {
  describeEventStoreContract('EsdbEventStore on a real EventStoreDB', () => {
    const store = new EsdbEventStore({ connectionString: realServer, logger: silentLogger });
    return Promise.resolve({ store, cleanup: () => store.close() });
  });
}
