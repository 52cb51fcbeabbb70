import { z } from "zod";
import { listener } from "./general.js";

/** Internal XMPP clients (src/access). */
export const c2sSection = z
  .object({
    starttls: listener(5222).prefault({}),
    direct_tls: listener(5223).prefault({}),
  })
  .strict();
