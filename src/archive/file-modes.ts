/**
 * Owner-only modes for what holds messages and credentials: the data
 * directory (0700), the SQLite database and its WAL, shared-memory and
 * rollback journal files (0600), and exports (0600).
 *
 * Modes are set explicitly at creation rather than through process.umask, so
 * the rest of the process (public certificates, logs) keeps its own modes.
 * SQLite gives the -wal, -shm and -journal files the database file's mode
 * (its unix VFS copies it when it creates them), so a database file created
 * 0600 keeps its companions 0600; the start-up check below still looks at
 * each of them, because an older install or a copy may have left them open.
 */
import { chmodSync, closeSync, existsSync, fchmodSync, fstatSync, mkdirSync, openSync, statSync } from "node:fs";

export const DIR_MODE = 0o700;
export const FILE_MODE = 0o600;
const SQLITE_COMPANIONS = ["", "-wal", "-shm", "-journal"];

/** Creates a directory (and its missing parents) owner-only; an existing one is left as it is. */
export function makePrivateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: DIR_MODE });
}

/** Creates an empty file owner-only if it does not exist, before a library opens it with its own mode. */
export function touchPrivateFile(path: string): void {
  closeSync(openSync(path, "a", FILE_MODE));
}

/**
 * Narrows an already open regular file (an export that overwrote an older
 * file keeps that file's mode otherwise); devices and pipes are left alone.
 */
export function narrowOpenFile(fd: number): void {
  if (fstatSync(fd).isFile()) fchmodSync(fd, FILE_MODE);
}

const octal = (m: number) => `0${(m & 0o777).toString(8)}`;

/**
 * Checks the data directory and the SQLite files. Files looser than 0600
 * are narrowed (they are demarc's own); a looser directory is only reported,
 * since it may be a mount point the operator manages. Returns one line per
 * finding, for the log.
 */
export function checkPrivateModes(dataDir: string, sqliteFile?: string): string[] {
  const found: string[] = [];
  if (process.platform === "win32") return found;
  if (existsSync(dataDir)) {
    const mode = statSync(dataDir).mode & 0o777;
    if (mode & 0o077) found.push(`data directory ${dataDir} is ${octal(mode)}: other local users can reach the archive and credentials; chmod 700 it`);
  }
  if (!sqliteFile) return found;
  for (const suffix of SQLITE_COMPANIONS) {
    const path = sqliteFile + suffix;
    if (!existsSync(path)) continue;
    const mode = statSync(path).mode & 0o777;
    if (!(mode & 0o077)) continue;
    chmodSync(path, FILE_MODE);
    found.push(`database file ${path} was ${octal(mode)}: narrowed to 0600`);
  }
  return found;
}
