/**
 * The c2s access module: XMPP clients reach the embedded core on 5222
 * (STARTTLS, RFC 6120 section 5) and 5223 (TLS from the first byte, XEP-0368),
 * both with the SNI certificates of src/xmpp/tls.ts.
 */
import { createServer as createNetServer, type Server, type Socket } from "node:net";
import { createServer as createTlsServer } from "node:tls";
import { Counter, Gauge } from "prom-client";
import type { GatewayContext, GatewayModule, Provider } from "../../module.js";
import { listen } from "../../listen.js";
import type { PresenceCore } from "../../core/core.js";
import type { PresenceStates } from "../../mapping/state-map.js";
import { StreamError } from "../../xmpp/errors.js";
import { NS_CLIENT } from "../../xmpp/ns.js";
import { refuseStream } from "../../xmpp/stream-header.js";
import { ServerTls } from "../../xmpp/tls.js";
import { C2sConnection } from "./connection.js";
import { fakeSaltFn, SessionRegistry, type C2sEnv } from "./env.js";
import { AuthThrottle } from "./throttle.js";
import { AddressCounter } from "../../xmpp/address-counter.js";

export interface C2sModule extends GatewayModule {
  addresses: { starttls?: { host: string; port: number }; direct_tls?: { host: string; port: number } };
}

const HANDSHAKE_TIMEOUT_MS = 10_000;

/** Takes a client's socket in; one address may hold at most max_streams_per_ip streams, so a flood from one host cannot take every slot. */
function acceptor(ctx: GatewayContext, env: C2sEnv): (sock: Socket, secure: boolean) => void {
  const perIp = new AddressCounter();
  return (sock, secure) => {
    const address = sock.remoteAddress ?? "unknown";
    if (!perIp.acquire(address, ctx.config.c2s.max_streams_per_ip)) {
      env.log.warn({ address }, "c2s: too many streams from one address");
      sock.on("error", () => undefined);
      return void sock.end(refuseStream(NS_CLIENT, new StreamError("policy-violation", "too many streams from this address")));
    }
    sock.once("close", () => perIp.release(address));
    new C2sConnection(sock, secure, env);
  };
}

export interface C2sWiring {
  /** The core the clients' sessions live in. */
  core: Provider<PresenceCore>;
  /** The presence state map in force; the shipped one without it. */
  states?: PresenceStates | undefined;
}

export function c2sModule(wiring: C2sWiring): C2sModule {
  const servers: Server[] = [];
  let env: C2sEnv | undefined;
  const mod: C2sModule = {
    name: "c2s",
    addresses: {},
    async start(ctx: GatewayContext) {
      const cfg = ctx.config.c2s;
      if (ctx.config.mode === "edge" || (!cfg.starttls.enabled && !cfg.direct_tls.enabled)) return;
      const core = wiring.core();
      const log = ctx.log.child({ module: "c2s" });
      // c2s asks for no client certificate: clients that send no SNI (or an unknown name) get the default one.
      const tls = new ServerTls({ certs: ctx.certs, minVersion: ctx.config.tls.min_version, handshakeTimeoutMs: HANDSHAKE_TIMEOUT_MS });
      const sessions = new SessionRegistry(() => ctx.config.c2s.resume_timeout_s * 1000);
      const stalledStreams = new Counter({
        name: "demarc_c2s_stalled_streams_total",
        help: "client streams closed because the client did not keep up with what it was sent (c2s.max_unsent_kb, c2s.max_unacked), by reason: still above them after behind_grace_s, or above 16 times max_unsent_kb",
        labelNames: ["reason"],
        registers: [ctx.metrics],
      });
      env = {
        core,
        get domains() {
          return ctx.federation().hosted;
        },
        get cfg() {
          return ctx.config.c2s;
        },
        log,
        throttle: new AuthThrottle(),
        fakeSalt: fakeSaltFn(),
        sessions,
        connections: new Set(),
        lane: (o) => ctx.router.lane(o),
        states: wiring.states && (() => wiring.states!.current),
        upgrade: (raw: Socket) => tls.upgrade(raw, HANDSHAKE_TIMEOUT_MS),
        stalled: (reason) => stalledStreams.inc({ reason }),
      };
      const e = env;
      const accept = acceptor(ctx, e);
      if (cfg.starttls.enabled) {
        const server = createNetServer((sock) => accept(sock, false));
        servers.push(server);
        mod.addresses.starttls = await listen(server, cfg.starttls.host, cfg.starttls.port, "c2s STARTTLS");
        log.info(mod.addresses.starttls, "c2s listening (STARTTLS)");
      }
      if (cfg.direct_tls.enabled) {
        const server = createTlsServer(tls.serverOptions(), (sock) => accept(sock, true));
        server.on("tlsClientError", (err) => log.debug({ err: err.message }, "c2s TLS handshake failed"));
        servers.push(server);
        mod.addresses.direct_tls = await listen(server, cfg.direct_tls.host, cfg.direct_tls.port, "c2s direct TLS");
        log.info(mod.addresses.direct_tls, "c2s listening (direct TLS)");
      }
      new Gauge({
        name: "demarc_c2s_connections",
        help: "open client connections",
        registers: [ctx.metrics],
        collect() {
          this.set(e.connections.size);
        },
      });
      ctx.readiness.set("c2s", () => (servers.every((s) => s.listening) ? undefined : "c2s listener not listening"));
    },
    async stop(drainMs: number) {
      for (const s of servers) s.close();
      if (env) {
        for (const c of [...env.connections]) c.close(new StreamError("system-shutdown"));
        env.sessions.endAll();
      }
      await Promise.race([
        Promise.all(servers.map((s) => new Promise((r) => (s.listening ? s.once("close", r) : r(undefined))))),
        new Promise((r) => setTimeout(r, Math.min(drainMs, 5_000)).unref()),
      ]);
      servers.length = 0;
    },
  };
  return mod;
}
