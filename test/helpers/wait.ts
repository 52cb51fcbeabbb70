/**
 * The suite's only ways to wait: for a change someone announces (data on a
 * socket, a stanza, a log line), for a condition polled where there is no
 * event to hang on (another process's database, a pool's size), and for a
 * port to listen. Each is bounded in time and fails with what it waited for.
 */
import { readFileSync } from "node:fs";
import { connect } from "node:net";

type Check<T> = () => T | undefined | null | false;

/**
 * State that tests wait on: whoever changes it calls notify(), and waiters
 * re-check then, not on a timer.
 */
export class Changes {
  private readonly waiters = new Set<() => void>();

  notify(): void {
    for (const w of [...this.waiters]) w();
  }

  /** Resolves with check()'s first value that is not undefined/null/false; re-checked on each notify. */
  until<T>(check: Check<T>, timeoutMs: number, describe: () => string): Promise<T> {
    const now = check();
    if (now !== undefined && now !== null && now !== false) return Promise.resolve(now);
    return new Promise<T>((resolve, reject) => {
      const waiter = () => {
        let v: ReturnType<Check<T>>;
        try {
          v = check();
        } catch (err) {
          this.waiters.delete(waiter);
          clearTimeout(timer);
          return reject(err);
        }
        if (v === undefined || v === null || v === false) return;
        this.waiters.delete(waiter);
        clearTimeout(timer);
        resolve(v);
      };
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        reject(new Error(`${describe()} (waited ${timeoutMs} ms)`));
      }, timeoutMs);
      this.waiters.add(waiter);
    });
  }
}

/**
 * Polls a condition that no event announces (state in a database, in another
 * process, in a module's internals), bounded in time. Resolves with the first
 * value that is not undefined/null/false.
 */
export async function until<T>(check: () => T | undefined | null | false | Promise<T | undefined | null | false>, timeoutMs = 5_000, what = "condition"): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined && v !== null && v !== false) return v;
    if (Date.now() >= deadline) throw new Error(`${what} not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * Waits until host:port accepts a connection: a peer process's listener is
 * the event, and a refused connection is re-tried. `failed` ends the wait
 * early with its message (the process exited).
 */
export async function waitForPort(host: string, port: number, timeoutMs: number, failed: () => string | undefined = () => undefined): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const why = failed();
    if (why) throw new Error(why);
    const ok = await new Promise<boolean>((res) => {
      const s = connect({ host, port });
      s.once("connect", () => (s.destroy(), res(true)));
      s.once("error", () => res(false));
    });
    if (ok) return;
    if (Date.now() >= deadline) throw new Error(`${host}:${port} not listening within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Whether a TCP listener is bound to host:port (IPv4, or all addresses), read from /proc/net/tcp: no connection, so a peer that takes one connection only is not disturbed. */
export function tcpListening(host: string, port: number): boolean {
  const hex = (ip: string) =>
    ip
      .split(".")
      .map((b) => Number(b).toString(16).padStart(2, "0").toUpperCase())
      .reverse()
      .join("");
  const want = new Set([`${hex(host)}:${port.toString(16).padStart(4, "0").toUpperCase()}`, `00000000:${port.toString(16).padStart(4, "0").toUpperCase()}`]);
  return readFileSync("/proc/net/tcp", "utf8")
    .split("\n")
    .slice(1)
    .some((line) => {
      const f = line.trim().split(/\s+/);
      return f[3] === "0A" && want.has(f[1] ?? "");
    });
}

/** Waits (bounded) until a TCP listener is bound to host:port, without connecting to it. */
export async function waitForListener(host: string, port: number, timeoutMs = 5_000, failed: () => string | undefined = () => undefined): Promise<void> {
  await until(() => {
    const why = failed();
    if (why) throw new Error(why);
    return tcpListening(host, port);
  }, timeoutMs, `a listener on ${host}:${port}`);
}
