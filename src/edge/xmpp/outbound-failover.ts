/**
 * Setting up an outbound stream across a partner's targets (RFC 6120 section
 * 3.2.1, RFC 2782 order, `_xmpps-server` before `_xmpp-server`, A/AAAA on
 * 5269 without SRV). A target counts as working only once its stream is
 * ready: one that accepts TCP but then fails TLS, the certificate check, the
 * stream or authentication, or stalls past connect_timeout_ms, is given up
 * and the next one tried, because the partner may still be reachable at
 * another advertised target. Each target is tried once; there is no retry
 * loop beyond the list.
 */
import { oneLine } from "../../errors.js";
import { discover, type Candidate, type Resolver } from "../dns/resolver.js";
import { connectTarget, describeTarget, FALLBACK_PORT, S2S_SERVICES, type TargetTlsOptions } from "./connect.js";
import { NegotiationError, OutboundStream, type OutboundEnv, type Purpose } from "./outbound.js";
import { SetupTimeout, remaining } from "./timeout.js";

export interface TargetFailure {
  target: string;
  reason: string;
  timedOut: boolean;
}

/** Every target failed (or there was none): the bounce condition follows the last failure. */
export class UnreachableError extends Error {
  constructor(
    readonly domain: string,
    readonly failures: TargetFailure[],
  ) {
    super(failures.length ? `${domain} unreachable: ${failures.map((f) => `${f.target} ${f.reason}`).join("; ")}` : `${domain}: no address found`);
  }

  get timedOut(): boolean {
    return this.failures.at(-1)?.timedOut ?? false;
  }

  get condition(): "remote-server-not-found" | "remote-server-timeout" {
    return this.timedOut ? "remote-server-timeout" : "remote-server-not-found";
  }
}

export interface EstablishOptions {
  env: OutboundEnv;
  resolver: Resolver;
  local: string;
  remote: string;
  purpose: Purpose;
  /** Aborted when the gateway shuts down: the attempt in progress is dropped. */
  signal?: AbortSignal;
}

const shuttingDown = () => new NegotiationError("gateway shutting down", "remote-server-timeout");

/** Reasons can carry a peer's stream error text: capped so one line stays one line. */
const MAX_REASON = 200;

function reasonOf(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  // Errno codes (ECONNREFUSED) say it all; OpenSSL and our own errors need their message.
  const reason = code && /^E[A-Z]+$/.test(code) ? code : oneLine(err);
  return reason.length > MAX_REASON ? `${reason.slice(0, MAX_REASON)}…` : reason;
}

function isTimeout(err: unknown): boolean {
  return err instanceof SetupTimeout || (err instanceof NegotiationError && err.condition === "remote-server-timeout");
}

/** Resolves with a stream that is ready (or, for a verify stream, has its verdict); rejects with UnreachableError. */
export async function establish(o: EstablishOptions): Promise<OutboundStream> {
  const candidates = await discover(o.resolver, o.remote, S2S_SERVICES, FALLBACK_PORT);
  const failures: TargetFailure[] = [];
  for (const [i, c] of candidates.entries()) {
    if (o.signal?.aborted) throw shuttingDown();
    try {
      return await attempt(o, c);
    } catch (err) {
      if (o.signal?.aborted) throw shuttingDown();
      const failure = { target: describeTarget(c), reason: reasonOf(err), timedOut: isTimeout(err) };
      failures.push(failure);
      // The last one is reported by the caller, with all the others, as UnreachableError.
      if (i < candidates.length - 1) {
        o.env.log.info({ domain: o.remote, target: failure.target, err: failure.reason }, "s2s connect failed; trying the next target");
      }
    }
  }
  throw new UnreachableError(o.remote, failures);
}

async function attempt(o: EstablishOptions, c: Candidate): Promise<OutboundStream> {
  const deadline = Date.now() + o.env.connectTimeoutMs;
  const tls: TargetTlsOptions = { certs: o.env.certs, trust: o.env.trust(), localDomain: o.local, remoteDomain: o.remote, minVersion: o.env.minVersion };
  const { socket, tls: direct } = await connectTarget(c, tls, remaining(deadline));
  if (o.signal?.aborted) {
    socket.destroy();
    throw shuttingDown();
  }
  const stream = new OutboundStream(socket, direct, o.local, o.remote, o.env, o.purpose, deadline);
  stream.target = `${c.service} ${describeTarget(c)}`;
  const onAbort = () => stream.destroy();
  o.signal?.addEventListener("abort", onAbort, { once: true });
  try {
    await stream.done;
    // The peer's bytes that made it ready may have ended the stream in the same read (a verify stream ends on purpose).
    if (o.purpose.kind === "stanzas" && stream.closed) throw new NegotiationError("connection closed right after the stream was ready");
    return stream;
  } catch (err) {
    stream.destroy();
    throw err;
  } finally {
    o.signal?.removeEventListener("abort", onAbort);
  }
}
