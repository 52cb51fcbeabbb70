/**
 * The archive writer's batch insert on PostgreSQL: COPY ... FROM STDIN on the
 * transaction's own connection (pg-copy-streams) rather than multi-row
 * INSERTs, so a batch is one statement the server parses once. Rows are
 * written in COPY's text format (PostgreSQL docs, "COPY", File Formats):
 * tab-separated columns, \N for NULL, backslash escapes for backslash, tab,
 * newline and carriage return, and bytea in hex input form. Hand-written
 * because the format is four escapes and a library for it would be larger
 * than this file.
 */
import { pipeline } from "node:stream/promises";
import { Readable } from "node:stream";
import type { Knex } from "knex";
import { from as copyFrom } from "pg-copy-streams";
import type { PoolClient } from "pg";

export type CopyValue = string | number | Buffer | null | undefined;

const ESCAPES: Record<string, string> = { "\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r" };
const SPECIAL = /[\\\t\n\r]/;
const SPECIALS = /[\\\t\n\r]/g;

function field(v: CopyValue): string {
  if (v === null || v === undefined) return "\\N";
  if (typeof v === "number") return String(v);
  // bytea hex input is \x..., and COPY's text format escapes that backslash once more.
  if (Buffer.isBuffer(v)) return `\\\\x${v.toString("hex")}`;
  // Most text has none of the four: skip the replace then.
  return SPECIAL.test(v) ? v.replace(SPECIALS, (c) => ESCAPES[c]!) : v;
}

/** COPYs rows (arrays in `columns` order) into `table` inside the transaction. */
export async function copyRows(trx: Knex.Transaction, table: string, columns: string[], rows: CopyValue[][]): Promise<void> {
  if (rows.length === 0) return;
  const conn = (await trx.client.acquireConnection()) as PoolClient;
  const sql = `COPY ${table} (${columns.map((c) => `"${c}"`).join(", ")}) FROM STDIN`;
  const lines = function* () {
    // A few hundred rows per chunk: fewer, larger writes to the socket.
    for (let i = 0; i < rows.length; i += 256) {
      let chunk = "";
      for (const row of rows.slice(i, i + 256)) chunk += `${row.map(field).join("\t")}\n`;
      yield chunk;
    }
  };
  await pipeline(Readable.from(lines()), conn.query(copyFrom(sql)));
}
