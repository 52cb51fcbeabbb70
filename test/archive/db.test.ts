/**
 * Opening the archive database: URLs in messages carry no part of the
 * password, and a database that is not answering yet is retried until
 * archive.connect_timeout_s (real PostgreSQL behind a proxy that opens late).
 */
import { describe, expect, it } from "vitest";
import { maskUrl, openDatabase } from "../../src/archive/db.js";
import { PG_SKIP_REASON, PG_URL, tempDir } from "./helpers.js";
import { startProxy } from "./tcp-proxy.js";

describe("maskUrl", () => {
  it("masks the whole password, whatever it holds", () => {
    expect(maskUrl("postgres://demarc:s3cret@db:5432/archive")).toBe("postgres://demarc:***@db:5432/archive");
    expect(maskUrl("postgres://demarc:p@ss@w@rd@db/archive?schema=x")).toBe("postgres://demarc:***@db/archive?schema=x");
    expect(maskUrl("postgres://demarc:a:b/c@db/archive")).toBe("postgres://demarc:***@db/archive");
    expect(maskUrl("postgres://demarc@db/archive")).toBe("postgres://demarc@db/archive");
    expect(maskUrl("postgres://db/archive?x=a@b")).toBe("postgres://db/archive?x=a@b");
  });
});

describe.skipIf(!PG_URL)(`openDatabase retries (${PG_URL ? "PostgreSQL" : PG_SKIP_REASON})`, () => {
  it("waits for a database that comes up within connect_timeout_s", async () => {
    const target = new URL(PG_URL!);
    const proxy = await startProxy("127.0.0.1", { host: target.hostname, port: Number(target.port || 5432) });
    await proxy.cut();
    const url = `${target.protocol}//${target.username}${target.password ? `:${target.password}` : ""}@127.0.0.1:${proxy.port}${target.pathname}`;
    const problems: string[] = [];
    try {
      // The proxy opens when demarc reports the first failed attempt: the open must carry on to success.
      const db = await openDatabase(url, tempDir(), 10, {
        onRetry: (problem, attempt) => {
          problems.push(problem);
          if (attempt === 1) void proxy.restore();
        },
      });
      expect((await db.raw("select 1 as one")).rows[0].one).toBe(1);
      await db.destroy();
      expect(problems[0]).toBe("ECONNREFUSED");
    } finally {
      await proxy.close();
    }
  });

  it("gives up after connect_timeout_s with the reason and the masked URL", async () => {
    const began = Date.now();
    await expect(openDatabase("postgres://u:pa@ss@127.0.0.1:1/test", tempDir(), 1)).rejects.toThrow(
      "archive database postgres://u:***@127.0.0.1:1/test is unreachable after 1 s (archive.connect_timeout_s): ECONNREFUSED",
    );
    expect(Date.now() - began).toBeGreaterThanOrEqual(1_000);
  });
});
