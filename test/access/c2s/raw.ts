/**
 * The suite's raw XMPP peer (test/helpers/xmpp-raw.ts) on the c2s bench's
 * ports: a direct TLS stream trusting the bench CA, or a plain one for STARTTLS.
 */
import { RawPeer, c2sHeader } from "../../helpers/xmpp-raw.js";
import { C2S_PORT, C2S_TLS_PORT } from "./helpers.js";

export const HEADER = c2sHeader("corp.test");

export type Raw = RawPeer;

export const Raw = {
  direct: (address: string, ca: string): Promise<RawPeer> => RawPeer.connectTls(address, C2S_TLS_PORT, { ca, servername: "corp.test", alpn: [] }),
  plain: (address: string): Promise<RawPeer> => RawPeer.connect(address, C2S_PORT),
};
