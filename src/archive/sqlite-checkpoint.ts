/**
 * SQLite WAL checkpoints off the event loop. better-sqlite3 is synchronous,
 * and an automatic checkpoint runs inside whichever commit crosses the WAL
 * threshold, fsync included: on a busy disk that stalls every stream for
 * tens to hundreds of milliseconds. The gateway turns automatic checkpoints
 * off on its own connection and a worker thread with a connection of its own
 * runs PASSIVE checkpoints (which never block the writer) on a timer instead.
 */
import { createRequire } from "node:module";
import { Worker } from "node:worker_threads";
import type { Logger } from "../log.js";
import type { SqliteConnection } from "./sqlite-append.js";

const WORKER = `
const { parentPort, workerData } = require("node:worker_threads");
const Database = require(workerData.module);
const db = new Database(workerData.file);
db.pragma("busy_timeout = 1000");
const timer = setInterval(() => {
  try { db.pragma("wal_checkpoint(PASSIVE)"); } catch (err) { parentPort.postMessage(String(err && err.message)); }
}, workerData.everyMs);
parentPort.on("message", () => { clearInterval(timer); db.close(); parentPort.close(); });
`;

export interface Checkpointer {
  stop(): Promise<void>;
}

export function startCheckpointer(conn: SqliteConnection & { pragma(s: string): unknown }, file: string, log: Logger, everyMs = 1000): Checkpointer {
  const module = createRequire(import.meta.url).resolve("better-sqlite3");
  const worker = new Worker(WORKER, { eval: true, workerData: { module, file, everyMs } });
  worker.unref();
  conn.pragma("wal_autocheckpoint = 0");
  worker.on("message", (err: string) => log.warn({ err }, "archive: SQLite checkpoint failed; retrying"));
  worker.on("error", (err) => {
    // Without the worker, SQLite goes back to checkpointing in the writer's commits.
    log.error({ err: err.message }, "archive: SQLite checkpoint worker failed; checkpoints run in the writer again");
    conn.pragma("wal_autocheckpoint = 1000");
  });
  return {
    async stop() {
      const exited = new Promise((r) => worker.once("exit", r));
      worker.postMessage("stop");
      await Promise.race([exited, new Promise((r) => setTimeout(r, 2_000).unref())]);
      conn.pragma("wal_autocheckpoint = 1000");
    },
  };
}
