import { describe, it } from "vitest";
import { retentionContract, storeContract } from "./store.contract.js";
import { openPg, PG_SKIP_REASON, PG_URL } from "./helpers.js";

if (PG_URL) {
  storeContract("PostgreSQL", () => openPg());
  retentionContract("PostgreSQL", () => openPg());
} else {
  describe("archive store contract: PostgreSQL", () => {
    it.skip(PG_SKIP_REASON, () => undefined);
  });
}
