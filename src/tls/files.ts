/**
 * Writing keys and certificates. Private keys are created with mode 0600 from
 * the first byte (and re-chmodded, in case the file already existed with a
 * wider mode); they are never printed.
 */
import { chmodSync, mkdirSync, openSync, closeSync, writeSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";

export function writePrivateKey(path: string, pem: string): void {
  mkdirSync(dirname(path), { recursive: true });
  const fd = openSync(path, "w", 0o600);
  try {
    chmodSync(path, 0o600);
    writeSync(fd, pem);
  } finally {
    closeSync(fd);
  }
}

export function writePublicFile(path: string, pem: string): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, pem, { mode: 0o644 });
}
