/**
 * SIP message framing on stream transports (RFC 3261 section 18.3) and for
 * datagrams. Heads are read by head.ts; this file only finds message
 * boundaries, each character once, whatever the chunking: the `sip` package's
 * own stream parser
 * silently skips a header block it cannot parse or that lacks Content-Length
 * and cannot say which message was too large, so the sender would never get
 * the 400 or 413 that RFC 3261 sections 8.2 and 21.4.11 call for.
 *
 * Everything here works on binary strings (one char per byte), so
 * Content-Length is counted in bytes as RFC 3261 section 20.14 requires.
 */
import type { SipMessage } from "sip";
import { parseHead } from "./head.js";

export interface FramingLimits {
  maxHeaderBytes: number;
  maxBodyBytes: number;
}

/** Why a message could not be taken; `message` is set when a response is possible. */
export interface FramingError {
  status: 400 | 413;
  reason: string;
  /** The parsed headers, when the start line and headers were readable. */
  message?: SipMessage | undefined;
  /** The stream cannot be resynchronised: close it after answering. */
  fatal: boolean;
}

export type FrameResult = { ok: true; message: SipMessage } | { ok: false; error: FramingError };

const HEADER_END = "\r\n\r\n";

function contentLength(m: SipMessage): number | undefined {
  const v = m.headers["content-length"];
  return typeof v === "number" && Number.isInteger(v) && v >= 0 ? v : undefined;
}

const enum Phase {
  /** Before a start line: CRLF keep-alives are skipped (RFC 3261 18.3, RFC 5626 4.4.1). */
  Idle,
  Head,
  Body,
}

export class StreamFramer {
  private phase = Phase.Idle;
  /** A CR seen last in Idle: the next chunk says whether it was half a keep-alive. */
  private idleCr = false;
  /** The current head or body so far, kept as pieces: joining or searching the whole on every chunk is quadratic. */
  private parts: string[] = [];
  private partsLength = 0;
  /** The last three characters of the head so far, to find a CRLFCRLF that straddles chunks. */
  private tail = "";
  private head: SipMessage | undefined;
  private bodyLength = 0;
  private failed = false;

  constructor(private readonly limits: FramingLimits) {}

  /** Bytes waiting for the rest of a message: lets the transport time out a stalled sender. */
  get pending(): number {
    return this.partsLength + (this.idleCr ? 1 : 0);
  }

  /** Feeds a chunk (binary string); returns the complete messages and at most one final error. */
  push(chunk: string): FrameResult[] {
    const out: FrameResult[] = [];
    let i = 0;
    // Every pass consumes at least one character, so the loop ends with the chunk.
    while (i < chunk.length && !this.failed) {
      if (this.phase === Phase.Idle) i = this.skipKeepAlives(chunk, i);
      else if (this.phase === Phase.Head) i = this.readHead(chunk, i, out);
      else i = this.readBody(chunk, i, out);
    }
    return out;
  }

  private skipKeepAlives(chunk: string, from: number): number {
    let i = from;
    if (this.idleCr) {
      this.idleCr = false;
      if (chunk.charCodeAt(i) === 10) i++;
      else return this.startHead("\r"), i;
    }
    while (i < chunk.length && chunk.charCodeAt(i) === 13) {
      if (i + 1 === chunk.length) return (this.idleCr = true), i + 1;
      if (chunk.charCodeAt(i + 1) !== 10) break;
      i += 2;
    }
    if (i < chunk.length) this.startHead("");
    return i;
  }

  private startHead(first: string): void {
    this.phase = Phase.Head;
    this.parts = first ? [first] : [];
    this.partsLength = first.length;
    this.tail = first;
  }

  private readHead(chunk: string, from: number, out: FrameResult[]): number {
    // Only the new text is searched, plus the three characters before it.
    const joint = this.tail + chunk.slice(from, from + 3);
    const k = joint.indexOf(HEADER_END);
    const found = k >= 0 && k < this.tail.length ? from + k + 4 - this.tail.length : chunk.indexOf(HEADER_END, from);
    const end = found < 0 ? chunk.length : k >= 0 && k < this.tail.length ? found : found + 4;
    const piece = chunk.slice(from, end);
    this.parts.push(piece);
    this.partsLength += piece.length;
    const max = this.limits.maxHeaderBytes;
    // The head without its CRLFCRLF is what the limit counts; unfinished, it is at least 3 shorter than what is held.
    if (this.partsLength - (found < 0 ? 3 : 4) > max) return this.fail(out, { status: 413, reason: "Request Entity Too Large", fatal: true });
    if (found < 0) {
      this.tail = piece.length >= 3 ? piece.slice(-3) : (this.tail + piece).slice(-3);
      return end;
    }
    const text = this.parts.join("");
    this.parts = [];
    this.partsLength = 0;
    this.tail = "";
    this.takeHead(text.slice(0, -4), out);
    return end;
  }

  private takeHead(text: string, out: FrameResult[]): void {
    const r = parseHead(text);
    if (!r.ok) {
      this.fail(out, { status: 400, reason: r.reason, message: r.message, fatal: true });
      return;
    }
    const length = contentLength(r.message);
    // RFC 3261 18.3: on a stream, Content-Length MUST be present; without it there is no next message.
    if (length === undefined) return void this.fail(out, { status: 400, reason: "Missing or Invalid Content-Length", message: r.message, fatal: true });
    if (length > this.limits.maxBodyBytes) return void this.fail(out, { status: 413, reason: "Request Entity Too Large", message: r.message, fatal: true });
    this.head = r.message;
    this.bodyLength = length;
    this.phase = Phase.Body;
    if (length === 0) this.finish(out);
  }

  private readBody(chunk: string, from: number, out: FrameResult[]): number {
    const end = Math.min(chunk.length, from + this.bodyLength - this.partsLength);
    this.parts.push(from === 0 && end === chunk.length ? chunk : chunk.slice(from, end));
    this.partsLength += end - from;
    if (this.partsLength === this.bodyLength) this.finish(out);
    return end;
  }

  private finish(out: FrameResult[]): void {
    const m = this.head!;
    m.content = this.parts.length === 1 ? this.parts[0]! : this.parts.join("");
    out.push({ ok: true, message: m });
    this.head = undefined;
    this.parts = [];
    this.partsLength = 0;
    this.phase = Phase.Idle;
  }

  private fail(out: FrameResult[], error: FramingError): number {
    this.failed = true;
    this.parts = [];
    this.partsLength = 0;
    out.push({ ok: false, error });
    return Number.MAX_SAFE_INTEGER;
  }
}

/** One datagram is one message (RFC 3261 18.3); Content-Length, when present, bounds the body. */
export function parseDatagram(data: string, limits: FramingLimits): FrameResult {
  if (data.length > limits.maxHeaderBytes + limits.maxBodyBytes) return { ok: false, error: { status: 413, reason: "Request Entity Too Large", fatal: false } };
  const end = data.indexOf(HEADER_END);
  if (end < 0) return { ok: false, error: { status: 400, reason: "Bad Request", fatal: false } };
  const r = parseHead(data.slice(0, end));
  if (!r.ok) return { ok: false, error: { status: 400, reason: r.reason, message: r.message, fatal: false } };
  const m = r.message;
  const body = data.slice(end + HEADER_END.length);
  const declared = m.headers["content-length"];
  if (declared === undefined) {
    m.content = body;
  } else {
    const length = contentLength(m);
    // RFC 3261 18.3: a Content-Length larger than the datagram's body: a request gets 400.
    if (length === undefined || length > body.length) return { ok: false, error: { status: 400, reason: "Invalid Content-Length", message: m, fatal: false } };
    m.content = body.slice(0, length);
  }
  if (m.content.length > limits.maxBodyBytes) return { ok: false, error: { status: 413, reason: "Request Entity Too Large", message: m, fatal: false } };
  return { ok: true, message: m };
}
