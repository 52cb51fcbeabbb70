/**
 * Preloaded into demarc by `bench:relay --alloc-profile DIR` (node --import):
 * samples allocations for the whole run, garbage included (node's own
 * --heap-prof keeps only what is still live at exit, which says nothing
 * about what the collector spends its time on), and writes a
 * .heapprofile into DIR when the process exits. Plain JavaScript: demarc
 * runs from dist/ without a TypeScript loader.
 */
import { Session } from "node:inspector";
import { writeFileSync } from "node:fs";
import { join } from "node:path";

const dir = process.env.DEMARC_ALLOC_PROFILE_DIR;
if (dir) {
  const session = new Session();
  session.connect();
  session.post("HeapProfiler.enable");
  session.post("HeapProfiler.startSampling", { samplingInterval: 16384, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
  // Main-thread inspector calls complete synchronously, so this works from the exit handler.
  process.on("exit", () => {
    session.post("HeapProfiler.stopSampling", (err, res) => {
      if (!err) writeFileSync(join(dir, `alloc.${process.pid}.heapprofile`), JSON.stringify(res.profile));
    });
  });
}
