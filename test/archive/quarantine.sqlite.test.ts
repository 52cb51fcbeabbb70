import { quarantineContract } from "./quarantine.contract.js";
import { openSqlite } from "./helpers.js";

quarantineContract("SQLite", openSqlite);
