/** A TCP proxy a test can cut and restore, to take a database away mid-stream. */
import { connect, createServer, type Server, type Socket } from "node:net";

export interface TcpProxy {
  port: number;
  cut(): Promise<void>;
  restore(): Promise<void>;
  close(): Promise<void>;
}

export async function startProxy(host: string, target: { host: string; port: number }): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  const track = (s: Socket) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  };
  const listen = (port: number) =>
    new Promise<number>((resolve, reject) => {
      const srv = createServer((client) => {
        const up = connect(target.port, target.host);
        track(client);
        track(up);
        client.on("error", () => up.destroy());
        up.on("error", () => client.destroy());
        client.pipe(up).pipe(client);
      });
      srv.once("error", reject);
      srv.listen(port, host, () => {
        server = srv;
        resolve((srv.address() as { port: number }).port);
      });
    });
  const port = await listen(0);
  const cut = async () => {
    const srv = server;
    server = undefined;
    for (const s of sockets) s.destroy();
    if (srv) await new Promise<void>((r) => srv.close(() => r()));
  };
  return { port, cut, restore: async () => void (await listen(port)), close: cut };
}
