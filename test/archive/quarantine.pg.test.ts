import { describe, it } from "vitest";
import { quarantineContract } from "./quarantine.contract.js";
import { openPg, PG_SKIP_REASON, PG_URL } from "./helpers.js";

if (PG_URL) {
  quarantineContract("PostgreSQL", () => openPg());
} else {
  describe("archive quarantine review: PostgreSQL", () => {
    it.skip(PG_SKIP_REASON, () => undefined);
  });
}
