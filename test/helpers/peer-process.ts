/**
 * What every real peer the tests run (Prosody, ejabberd) needs from its
 * process: its console output kept, its log file read for failure reports,
 * and a promise for its exit.
 */
import type { ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";

export interface PeerOutput {
  /** What the process printed. */
  output(): string;
  /** The peer's own log file, or its console output when there is none yet. */
  log(): string;
  exited: Promise<void>;
}

export function capturePeer(child: ChildProcess, logFile: string): PeerOutput {
  let output = "";
  child.stdout!.on("data", (c: Buffer) => (output += c.toString()));
  child.stderr!.on("data", (c: Buffer) => (output += c.toString()));
  const exited = new Promise<void>((res) => child.once("exit", () => res()));
  return {
    output: () => output,
    log: () => {
      try {
        return readFileSync(logFile, "utf8");
      } catch {
        return output;
      }
    },
    exited,
  };
}

/** For waitForPort: why waiting for the peer's port is pointless (it exited), if it is. */
export function exitedWith(child: ChildProcess): string | undefined {
  return child.exitCode !== null || child.signalCode !== null ? `the peer exited (${child.exitCode ?? child.signalCode}) before listening` : undefined;
}
