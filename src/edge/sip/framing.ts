/**
 * SIP message framing on stream transports (RFC 3261 section 18.3) and for
 * datagrams. Parsing of start lines and headers is the `sip` package's; this
 * file only finds message boundaries, because the package's own stream parser
 * silently skips a header block it cannot parse or that lacks Content-Length
 * and cannot say which message was too large, so the sender would never get
 * the 400 or 413 that RFC 3261 sections 8.2 and 21.4.11 call for.
 *
 * Everything here works on binary strings (one char per byte), so
 * Content-Length is counted in bytes as RFC 3261 section 20.14 requires.
 */
import sip, { type SipMessage } from "sip";

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

/** Parses the head (start line + headers) with the package's parser. */
function parseHead(head: string): SipMessage | undefined {
  try {
    return sip.parse(`${head}${HEADER_END}`);
  } catch {
    // The package's header parsers index regex results unchecked; any throw is a malformed head.
    return undefined;
  }
}

function contentLength(m: SipMessage): number | undefined {
  const v = m.headers["content-length"];
  return typeof v === "number" && Number.isInteger(v) && v >= 0 ? v : undefined;
}

export class StreamFramer {
  private buf = "";
  private head: SipMessage | undefined;
  private bodyLength = 0;
  private failed = false;

  constructor(private readonly limits: FramingLimits) {}

  /** Bytes waiting for the rest of a message: lets the transport time out a stalled sender. */
  get pending(): number {
    return this.buf.length;
  }

  /** Feeds a chunk (binary string); returns the complete messages and at most one final error. */
  push(chunk: string): FrameResult[] {
    if (this.failed) return [];
    this.buf = this.buf.length ? this.buf + chunk : chunk;
    const out: FrameResult[] = [];
    // Work through the buffer by offset and cut it once at the end: slicing per message is quadratic on big chunks.
    let pos = 0;
    for (let guard = 0; guard < 10_000; guard++) {
      if (!this.head) {
        // RFC 3261 18.3: CRLFs before a start line are ignored (RFC 5626 keep-alives too).
        while (this.buf.charCodeAt(pos) === 13 && this.buf.charCodeAt(pos + 1) === 10) pos += 2;
        const end = this.buf.indexOf(HEADER_END, pos);
        if (end < 0) {
          if (this.buf.length - pos > this.limits.maxHeaderBytes) return this.fail(out, { status: 413, reason: "Request Entity Too Large", fatal: true });
          break;
        }
        if (end - pos > this.limits.maxHeaderBytes) return this.fail(out, { status: 413, reason: "Request Entity Too Large", fatal: true });
        const m = parseHead(this.buf.slice(pos, end));
        if (!m) return this.fail(out, { status: 400, reason: "Bad Request", fatal: true });
        const length = contentLength(m);
        // RFC 3261 18.3: on a stream, Content-Length MUST be present; without it there is no next message.
        if (length === undefined) return this.fail(out, { status: 400, reason: "Missing or Invalid Content-Length", message: m, fatal: true });
        if (length > this.limits.maxBodyBytes) return this.fail(out, { status: 413, reason: "Request Entity Too Large", message: m, fatal: true });
        pos = end + HEADER_END.length;
        this.head = m;
        this.bodyLength = length;
      }
      if (this.buf.length - pos < this.bodyLength) break;
      const m = this.head;
      m.content = this.buf.slice(pos, pos + this.bodyLength);
      pos += this.bodyLength;
      this.head = undefined;
      out.push({ ok: true, message: m });
    }
    this.buf = pos >= this.buf.length ? "" : this.buf.slice(pos);
    return out;
  }

  private fail(out: FrameResult[], error: FramingError): FrameResult[] {
    this.failed = true;
    this.buf = "";
    out.push({ ok: false, error });
    return out;
  }
}

/** One datagram is one message (RFC 3261 18.3); Content-Length, when present, bounds the body. */
export function parseDatagram(data: string, limits: FramingLimits): FrameResult {
  if (data.length > limits.maxHeaderBytes + limits.maxBodyBytes) return { ok: false, error: { status: 413, reason: "Request Entity Too Large", fatal: false } };
  const end = data.indexOf(HEADER_END);
  if (end < 0) return { ok: false, error: { status: 400, reason: "Bad Request", fatal: false } };
  const m = parseHead(data.slice(0, end));
  if (!m) return { ok: false, error: { status: 400, reason: "Bad Request", fatal: false } };
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
