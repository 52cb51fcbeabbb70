/**
 * Writes to XMPP sockets held back until the event loop's check phase
 * (setImmediate): everything a socket is sent while one round of input is
 * handled - every presence change read in the same poll, a burst of
 * deliveries, a partner's share of what the router released - leaves as one
 * write: one syscall and, on TLS, one record instead of one per stanza. An
 * all-hands presence burst sends each socket 75 stanzas in one round; written
 * one by one they cost about three times writing the same bytes at once.
 *
 * The text is joined here rather than corked in the socket: a corked socket
 * keeps a write request per stanza and hands them to writev as an array of
 * chunks, a string append (a rope, flattened once when written) is cheaper.
 */
import type { Writable } from "node:stream";

let held = new Map<Writable, string>();
let scheduled = false;

function release(): void {
  scheduled = false;
  const round = held;
  held = new Map();
  for (const [socket, text] of round) write(socket, text);
}

function write(socket: Writable, text: string): void {
  // A socket that closed meanwhile drops its text, as it would have dropped it from its own buffer.
  if (!socket.destroyed && !socket.writableEnded) socket.write(text);
}

/** Writes text to the socket; the write leaves with everything else it is sent this round. */
export function batchedWrite(socket: Writable, text: string): void {
  const before = held.get(socket);
  held.set(socket, before === undefined ? text : before + text);
  if (!scheduled) {
    scheduled = true;
    setImmediate(release);
  }
}

/** Sends what is held for the socket now: before a write that must follow it at once, its STARTTLS upgrade or its end. */
export function flushNow(socket: Writable): void {
  const text = held.get(socket);
  if (text === undefined) return;
  held.delete(socket);
  write(socket, text);
}

/** Characters held for the socket, not yet in its own buffer (back-pressure counts them too). */
export function heldLength(socket: Writable): number {
  return held.get(socket)?.length ?? 0;
}
