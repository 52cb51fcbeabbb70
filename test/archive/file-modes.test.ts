/**
 * The archive's files are the owner's alone: the data directory 0700, the
 * SQLite database and its WAL/SHM 0600 from the moment they are created, and
 * a start-up check that narrows looser database files and reports a looser
 * directory.
 */
import { chmodSync, existsSync, mkdtempSync, openSync, closeSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { migrate, openDatabase, type Db } from "../../src/archive/db.js";
import { checkPrivateModes, narrowOpenFile } from "../../src/archive/file-modes.js";

const mode = (p: string) => statSync(p).mode & 0o777;
let db: Db | undefined;
afterEach(async () => {
  await db?.destroy();
  db = undefined;
});

describe("archive file modes", () => {
  it("creates the database folder 0700 and the database, WAL and SHM 0600", async () => {
    const root = mkdtempSync(join(tmpdir(), "demarc-modes-"));
    const dataDir = join(root, "data");
    db = await openDatabase("sqlite:nested/archive.db", dataDir);
    await migrate(db);
    await db.raw("create table t (x text)");
    await db.raw("insert into t values ('secret')");
    const file = join(dataDir, "nested", "archive.db");
    expect(existsSync(`${file}-wal`)).toBe(true);
    expect(existsSync(`${file}-shm`)).toBe(true);
    expect(mode(join(dataDir, "nested")).toString(8)).toBe("700");
    for (const p of [file, `${file}-wal`, `${file}-shm`]) expect(mode(p).toString(8), p).toBe("600");
    expect(checkPrivateModes(join(dataDir, "nested"), file)).toEqual([]);
  });

  it("narrows looser database files at start and reports a looser directory", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "demarc-modes-"));
    chmodSync(dataDir, 0o755);
    const file = join(dataDir, "archive.db");
    for (const s of ["", "-wal", "-shm", "-journal"]) {
      writeFileSync(file + s, "");
      chmodSync(file + s, 0o644);
    }
    const found = checkPrivateModes(dataDir, file);
    expect(found[0]).toBe(`data directory ${dataDir} is 0755: other local users can reach the archive and credentials; chmod 700 it`);
    expect(found.slice(1)).toEqual(["", "-wal", "-shm", "-journal"].map((s) => `database file ${file + s} was 0644: narrowed to 0600`));
    for (const s of ["", "-wal", "-shm", "-journal"]) expect(mode(file + s).toString(8)).toBe("600");
    expect(mode(dataDir).toString(8)).toBe("755");
  });

  it("an export written over an older, wider file ends up 0600", () => {
    const path = join(mkdtempSync(join(tmpdir(), "demarc-modes-")), "out.csv");
    writeFileSync(path, "old");
    chmodSync(path, 0o644);
    const fd = openSync(path, "w", 0o600);
    narrowOpenFile(fd);
    closeSync(fd);
    expect(mode(path).toString(8)).toBe("600");
  });
});
