/** Split mode with Prosody as the internal server (see split-scenario.ts). */
import { splitScenario } from "./split-scenario.js";

splitScenario("prosody", { edge: "127.0.15.1", dns: "127.0.15.53", internal: "127.0.15.2", peer: "127.0.15.11" });
