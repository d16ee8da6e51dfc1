import { memoryCheckpointStore } from '../../lib/checkpoint/checkpointStore.js';
import { checkpointStoreContract } from '../support/checkpointStoreContract.js';

checkpointStoreContract('memoryCheckpointStore', () => {
  const store = memoryCheckpointStore();
  return Promise.resolve({
    store,
    // a memory store lives as long as the object: "reopening" is using it again
    reopen: () => Promise.resolve(store),
    other: () => Promise.resolve(memoryCheckpointStore()),
    dispose: () => Promise.resolve(),
  });
});
