/**
 * Watches a policy folder and calls back once a burst of changes settles
 * (editors write a temp file and rename it; a deploy copies several files).
 */
import { existsSync, watch, type FSWatcher } from "node:fs";

export function watchFolder(dir: string, debounceMs: number, onChange: () => void): { close(): void } | undefined {
  if (!existsSync(dir)) return undefined;
  let timer: NodeJS.Timeout | undefined;
  let watcher: FSWatcher | undefined = watch(dir, { persistent: false }, (_event, name) => {
    if (name && !/\.ya?ml$/i.test(String(name))) return;
    clearTimeout(timer);
    timer = setTimeout(onChange, debounceMs);
  });
  watcher.on("error", () => {
    watcher?.close();
    watcher = undefined;
  });
  return {
    close() {
      clearTimeout(timer);
      watcher?.close();
      watcher = undefined;
    },
  };
}
