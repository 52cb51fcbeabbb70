/**
 * Non-INVITE transactions (RFC 3261 section 17.1.2 client, 17.2.2 server).
 *
 * Server: a retransmitted request (same branch, method and sent-by, 17.2.3)
 * gets the last response again and never reaches the handler twice; the
 * transaction is remembered for Timer J (64*T1 on UDP, 17.2.2).
 * Client: on UDP the request is retransmitted on Timer E (T1 doubling up to
 * T2) until a response, and every T2 once a provisional response says the
 * far end is working on it (Proceeding, 17.1.2.2); Timer F (64*T1) ends it
 * with a timeout, which the caller treats as 408 (section 8.1.3.1).
 */
import type { SipMessage } from "sip";
import type { Flow } from "./flow.js";
import { topBranch } from "./message.js";

export interface Timers {
  t1: number;
  t2: number;
}

export class TransactionTimeout extends Error {
  readonly status = 408;
}

interface ServerTx {
  flow: Flow;
  last?: SipMessage | undefined;
  timer?: NodeJS.Timeout | undefined;
}

function serverKey(rq: SipMessage): string | undefined {
  const branch = topBranch(rq);
  const via = rq.headers.via?.[0];
  if (!branch || !via) return undefined;
  // ACK matches the INVITE transaction it acknowledges (17.2.3).
  const method = rq.method === "ACK" ? "INVITE" : rq.method;
  return `${branch}|${method}|${via.host}:${via.port ?? ""}`;
}

export class ServerTransactions {
  private readonly txs = new Map<string, ServerTx>();
  constructor(private readonly timers: Timers, private readonly max = 100_000) {}

  /**
   * Returns a respond function for a new request, or undefined when this is
   * a retransmission (already answered again here) or an ACK.
   */
  begin(rq: SipMessage, flow: Flow): ((rs: SipMessage) => void) | undefined {
    const key = serverKey(rq);
    if (key === undefined) return (rs) => flow.send(rs);
    const existing = this.txs.get(key);
    if (existing) {
      if (rq.method !== "ACK" && existing.last) flow.send(existing.last);
      return undefined;
    }
    if (rq.method === "ACK") return undefined;
    if (this.txs.size >= this.max) return (rs) => flow.send(rs);
    const tx: ServerTx = { flow };
    this.txs.set(key, tx);
    const wait = 64 * this.timers.t1;
    // Until the final response is sent, keep the entry so retransmissions are absorbed.
    tx.timer = setTimeout(() => this.txs.delete(key), wait * 2).unref();
    return (rs) => {
      tx.last = rs;
      flow.send(rs);
      if ((rs.status ?? 0) >= 200) {
        if (tx.timer) clearTimeout(tx.timer);
        // Timer J is 64*T1 on UDP and zero on streams (17.2.2), but a peer that lost its
        // connection resends on a new one with the same branch: remembering the answer
        // on every transport keeps that from delivering and archiving twice.
        tx.timer = setTimeout(() => this.txs.delete(key), wait).unref();
      }
    };
  }

  clear(): void {
    for (const tx of this.txs.values()) if (tx.timer) clearTimeout(tx.timer);
    this.txs.clear();
  }
}

interface ClientTx {
  flow: Flow;
  resolve(rs: SipMessage): void;
  reject(err: Error): void;
  timers: NodeJS.Timeout[];
  /** A 1xx arrived (17.1.2.2 Proceeding): retransmit at T2 from now on. */
  proceeding: boolean;
}

export class ClientTransactions {
  private readonly txs = new Map<string, ClientTx>();
  constructor(private readonly timers: Timers) {}

  /** Sends a request and resolves with its final response. */
  send(rq: SipMessage, flow: Flow): Promise<SipMessage> {
    const branch = topBranch(rq);
    if (!branch) return Promise.reject(new Error("request has no Via branch"));
    return new Promise<SipMessage>((resolve, reject) => {
      const tx: ClientTx = { flow, resolve, reject, timers: [], proceeding: false };
      this.txs.set(branch, tx);
      const done = () => {
        for (const t of tx.timers) clearTimeout(t);
        this.txs.delete(branch);
      };
      tx.resolve = (rs) => {
        done();
        resolve(rs);
      };
      tx.reject = (err) => {
        done();
        reject(err);
      };
      flow.send(rq);
      if (flow.transport === "UDP") {
        let interval = this.timers.t1;
        const retransmit = () => {
          if (!this.txs.has(branch)) return;
          flow.send(rq);
          interval = tx.proceeding ? this.timers.t2 : Math.min(interval * 2, this.timers.t2);
          tx.timers.push(setTimeout(retransmit, interval));
        };
        tx.timers.push(setTimeout(retransmit, interval));
      }
      tx.timers.push(setTimeout(() => tx.reject(new TransactionTimeout(`no final response within ${64 * this.timers.t1} ms`)), 64 * this.timers.t1));
    });
  }

  /** Matches a response to its transaction (17.1.3); false when none matches. */
  onResponse(rs: SipMessage): boolean {
    const branch = topBranch(rs);
    const tx = branch ? this.txs.get(branch) : undefined;
    if (!tx) return false;
    if ((rs.status ?? 0) >= 200) tx.resolve(rs);
    else tx.proceeding = true;
    return true;
  }

  /** A stream closed: its transactions can get no response (RFC 3261 18.4: a transport error). */
  flowClosed(flow: Flow): void {
    for (const tx of [...this.txs.values()]) if (tx.flow === flow) tx.reject(new Error("connection closed before a final response"));
  }

  failAll(err: Error): void {
    for (const tx of [...this.txs.values()]) tx.reject(err);
  }
}
