/** RFC 4180 CSV, line by line, with the line number of each record for error messages. */
export interface CsvRecord {
  line: number;
  fields: string[];
}

export function parseCsv(text: string): CsvRecord[] {
  const out: CsvRecord[] = [];
  let fields: string[] = [];
  let field = "";
  let quoted = false;
  let line = 1;
  let start = 1;
  let any = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') (field += '"'), i++;
      else if (c === '"') quoted = false;
      else {
        if (c === "\n") line++;
        field += c;
      }
      continue;
    }
    if (c === '"' && field === "") (quoted = true), (any = true);
    else if (c === ",") fields.push(field), (field = ""), (any = true);
    else if (c === "\n" || c === "\r") {
      if (c === "\r" && text[i + 1] === "\n") i++;
      if (any || field !== "") out.push({ line: start, fields: [...fields, field] });
      fields = [];
      field = "";
      any = false;
      start = ++line;
    } else (field += c), (any = true);
  }
  if (quoted) throw new Error(`line ${start}: unterminated quoted field`);
  if (any || field !== "") out.push({ line: start, fields: [...fields, field] });
  return out;
}
