/** Binding a listening socket, with the one-line errors an operator needs. */
import type { Server } from "node:net";
import { DemarcError } from "./errors.js";

export function listen(server: Server, host: string, port: number, what: string): Promise<{ host: string; port: number }> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      server.off("listening", onListening);
      const why =
        err.code === "EADDRINUSE" ? "is already in use"
        : err.code === "EACCES" ? "needs privileges to bind"
        : err.code === "EADDRNOTAVAIL" ? "is not an address of this machine"
        : `cannot be bound (${err.code ?? err.message})`;
      reject(new DemarcError("E_LISTEN", { listener: what, address: `${host}:${port}`, problem: why }));
    };
    const onListening = () => {
      server.off("error", onError);
      const addr = server.address();
      resolve(typeof addr === "object" && addr ? { host: addr.address, port: addr.port } : { host, port });
    };
    server.once("error", onError);
    server.once("listening", onListening);
    server.listen(port, host);
  });
}
