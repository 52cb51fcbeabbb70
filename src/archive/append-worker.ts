/**
 * The archive sink over a SQLite file: a worker thread (append-thread.ts)
 * runs the appends and outcome inserts on a connection of its own, so
 * better-sqlite3's synchronous inserts, the hash chain and the commits no
 * longer hold up every stream on the event loop. This side hands it a batch
 * as the journal's JSON texts, packed as UTF-8 in one transferred buffer
 * (an array of strings clones at about a quarter of the cost of the record
 * objects, and bytes move for nothing) and resolves once the thread answers
 * that its transaction committed: the writer acks the journal only then.
 *
 * A thread that fails or dies is a database error to the writer: the request
 * is rejected, the writer retries with backoff, and the retry starts a new
 * thread. Requests are bounded in time, so a thread that hangs is ended and
 * replaced rather than holding the archive up for ever.
 *
 * The thread runs the compiled module beside this one. Where this file is the
 * TypeScript source itself (vitest, tsx), so is the thread, and Node 20 does
 * not apply `--import` loader hooks to a worker's entry module: the thread
 * is then a two-line CommonJS stub that installs tsx's require hook (tsx is
 * a devDependency, there wherever .ts runs) and requires the source. That
 * rather than one string of eval'd CommonJS holding the whole thread, as
 * sqlite-checkpoint.ts has, because this thread needs the archive's modules.
 */
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import type { Logger } from "../log.js";
import type { OutcomeEntry } from "../model/outcome.js";
import type { ThreadData, ThreadReply, ThreadRequest, ThreadTask } from "./append-thread.js";
import type { JournalEntry } from "./journal-format.js";
import { flattenOutcomes } from "./outcome-rows.js";
import { entryBytes, type ArchiveSink, type SinkResult } from "./sink.js";

/** Far beyond any batch (SQLite's busy wait is 5 s): only a thread that is stuck takes this long. */
const REQUEST_TIMEOUT_MS = 60_000;
/** How long close waits for the thread to finish its batch and stop before ending it. */
const CLOSE_WAIT_MS = 2_000;

/** How to start the thread: the compiled module, or the source through tsx (see above). */
function threadStart(): { entry: URL | string; eval: boolean } {
  const source = fileURLToPath(import.meta.url).endsWith(".ts");
  if (!source) return { entry: new URL("./append-thread.js", import.meta.url), eval: false };
  const tsx = createRequire(import.meta.url).resolve("tsx/cjs/api");
  const thread = fileURLToPath(new URL("./append-thread.ts", import.meta.url));
  return { entry: `require(${JSON.stringify(tsx)}).register();\nrequire(${JSON.stringify(thread)});`, eval: true };
}

interface Waiting {
  resolve: (r: ThreadReply & { ok: true }) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

export class WorkerSink implements ArchiveSink {
  readonly holds = "payload";
  private thread: Worker | undefined;
  private readonly waiting = new Map<number, Waiting>();
  private nextId = 1;
  private closed = false;
  /** Threads started, the first included: for tests and diagnostics. */
  started = 0;

  constructor(
    private readonly file: string,
    private readonly log: Logger,
  ) {}

  /** The running thread, if any (tests end it to check recovery). */
  get worker(): Worker | undefined {
    return this.thread;
  }

  private spawn(): Worker {
    const start = threadStart();
    const data: ThreadData = { file: this.file };
    const w = new Worker(start.entry, { eval: start.eval, workerData: data });
    // A thread must not keep the process alive: the gateway's stop closes it, and anything pending is in the journal.
    w.unref();
    w.on("message", (r: ThreadReply) => this.answer(r));
    w.on("error", (err) => this.log.error({ err: err.message }, "archive writer thread failed"));
    w.on("exit", (code) => this.gone(w, code));
    this.started += 1;
    return w;
  }

  private answer(r: ThreadReply): void {
    const w = this.waiting.get(r.id);
    if (!w) return;
    this.waiting.delete(r.id);
    clearTimeout(w.timer);
    if (r.ok) w.resolve(r);
    else w.reject(new Error(r.error));
  }

  /** Everything the thread had not answered fails; the next request starts a new thread. */
  private gone(w: Worker, code: number): void {
    if (this.thread === w) this.thread = undefined;
    if (!this.closed) this.log.error({ code }, "archive writer thread stopped; a new one starts with the next batch");
    const err = new Error(`archive writer thread stopped (exit code ${code})`);
    for (const [id, p] of this.waiting) {
      clearTimeout(p.timer);
      p.reject(err);
      this.waiting.delete(id);
    }
  }

  private request(req: ThreadTask, transfer?: ArrayBuffer[]): Promise<ThreadReply & { ok: true }> {
    if (this.closed) return Promise.reject(new Error("archive writer thread is closed"));
    const thread = (this.thread ??= this.spawn());
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.log.error({ timeoutMs: REQUEST_TIMEOUT_MS }, "archive writer thread did not answer; ending it");
        void thread.terminate();
      }, REQUEST_TIMEOUT_MS);
      timer.unref();
      this.waiting.set(id, { resolve, reject, timer });
      thread.postMessage({ ...req, id } satisfies ThreadRequest, transfer);
    });
  }

  async append(entries: JournalEntry[]): Promise<SinkResult> {
    const { bytes, lengths, buffer } = entryBytes(entries);
    const reply = await this.request({ op: "append", bytes, lengths }, [buffer]);
    return reply.result!;
  }

  async writeOutcomes(entries: OutcomeEntry[]): Promise<void> {
    await this.request({ op: "outcomes", rows: flattenOutcomes(entries) });
  }

  /** Asks the thread to stop once its current batch is done; ends it if that takes longer than CLOSE_WAIT_MS. */
  async close(): Promise<void> {
    this.closed = true;
    const w = this.thread;
    if (!w) return;
    const exited = new Promise((r) => w.once("exit", r));
    w.postMessage({ op: "stop" } satisfies ThreadRequest);
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<"late">((r) => (timer = setTimeout(() => r("late"), CLOSE_WAIT_MS)));
    if ((await Promise.race([exited, late])) === "late") await w.terminate();
    clearTimeout(timer);
  }
}
