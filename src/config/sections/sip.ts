import { z } from "zod";
import { listener } from "./general.js";

/** SIP/SIMPLE federation (src/edge/sip). */
export const sipSection = z
  .object({
    tls: listener(5061, false).prefault({}),
    tcp: listener(5060, false).prefault({}),
    udp: listener(5060, false).prefault({}),
  })
  .strict();
