/** Split mode with ejabberd (ejabberd_service listener) as the internal server (see split-scenario.ts). */
import { splitScenario } from "./split-scenario.js";

splitScenario("ejabberd", { edge: "127.0.15.101", dns: "127.0.15.153", internal: "127.0.15.102", peer: "127.0.15.111" });
