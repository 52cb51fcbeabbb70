import { retentionContract, storeContract } from "./store.contract.js";
import { openSqlite } from "./helpers.js";

storeContract("SQLite", openSqlite);
retentionContract("SQLite", openSqlite);
