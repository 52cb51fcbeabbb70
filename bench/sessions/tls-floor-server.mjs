// A bare Node TLS server with the given certificate: accepts, answers one
// line, keeps the socket. What an idle TLS connection costs Node itself, the
// floor under any Node server's per-session memory. Started by bench/sessions.ts.
import { createServer } from "node:tls";
import { readFileSync } from "node:fs";

const [host, port, certPath, keyPath] = process.argv.slice(2);
const sockets = new Set();
const server = createServer({ cert: readFileSync(certPath), key: readFileSync(keyPath) }, (s) => {
  sockets.add(s);
  s.on("error", () => undefined);
  s.on("close", () => sockets.delete(s));
  s.on("data", () => undefined);
  s.write("ok\n");
});
server.listen(Number(port), host, () => process.stdout.write("listening\n"));
