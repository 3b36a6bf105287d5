import { MemorySessionStore } from "../../../gateway/store/memory";
import { sessionStoreConformance } from "./conformance";

sessionStoreConformance("MemorySessionStore", {
  async create(limits) {
    const store = new MemorySessionStore(limits);
    await store.open();
    return store;
  },
  async reopen(store) {
    await store.close();
    await store.open();
    return store;
  },
});
