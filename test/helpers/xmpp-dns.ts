/**
 * The tests' DNS server as a recursive resolver must look to libunbound
 * (Prosody): answers carry RA (recursion available). Without it unbound
 * treats the forwarder as lame and reports NXDOMAIN for names it served.
 * dns2's createResponseFromRequest leaves RA at 0, so responses get it here.
 */
import DNS from "dns2";
export { startDnsServer, type DnsServerHandle, type Zone } from "./dns-server.js";

const P = DNS.Packet as unknown as { createResponseFromRequest: (req: unknown) => { header: { ra: number } }; __raPatched?: boolean };
if (!P.__raPatched) {
  const original = P.createResponseFromRequest;
  P.createResponseFromRequest = (req: unknown) => {
    const res = original(req);
    res.header.ra = 1;
    return res;
  };
  P.__raPatched = true;
}
