import { z } from "zod";
import { listener } from "./general.js";

/** XMPP server-to-server federation (src/edge/xmpp). */
export const s2sSection = z
  .object({
    starttls: listener(5269).prefault({}),
    direct_tls: listener(5270).prefault({}),
  })
  .strict();
