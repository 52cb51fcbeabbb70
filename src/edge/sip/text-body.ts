/**
 * A MESSAGE body of a text/* media type (RFC 3428 section 9 leaves the type
 * open; RFC 2046 section 4.1.2 gives text/* its charset parameter) as the
 * plain text compliance reads and partners receive. text/html and
 * text/enriched (RFC 1896) become the text a reader would see; their markup
 * is dropped, so what was matched is what is delivered. Other text types
 * (RTF, vendor types) can split a word with markup this edge cannot read, so
 * they are refused with 415 rather than passed unchecked.
 *
 * The HTML reduction is written here rather than taken from an HTML parser
 * package: only visible text is wanted, and the result is never rendered as
 * markup, so a tag this reading misjudges can lose text but never smuggle
 * markup (or an unmatched word hidden in it) through.
 */

/** The text types read here, for the 415's Accept header. */
export const TEXT_TYPES = ["text/plain", "text/html", "text/enriched", "text/richtext"] as const;

export type TextBody = { text: string } | { status: 415; reason: string };

const NAMED: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'", nbsp: "\u00a0" };
const BLOCK = /^(p|div|br|li|tr|h[1-6]|blockquote|pre|table|ul|ol)$/i;

function entity(_m: string, body: string): string {
  if (body[0] === "#") {
    const code = body[1] === "x" || body[1] === "X" ? Number.parseInt(body.slice(2), 16) : Number.parseInt(body.slice(1), 10);
    return Number.isInteger(code) && code > 0 && code <= 0x10ffff && !(code >= 0xd800 && code <= 0xdfff) ? String.fromCodePoint(code) : "\ufffd";
  }
  return NAMED[body.toLowerCase()] ?? `&${body};`;
}

/** The visible text of an HTML fragment: no comments, scripts or styles; block ends as line breaks; entities decoded. */
export function htmlToText(html: string): string {
  return html
    .replace(/<!--[\s\S]*?(-->|$)/g, "")
    .replace(/<(script|style)\b[\s\S]*?(<\/\1\s*>|$)/gi, "")
    .replace(/<\/?([a-zA-Z][a-zA-Z0-9]*)\b[^>]*>/g, (_m, tag: string) => (BLOCK.test(tag) ? "\n" : ""))
    .replace(/<[!?][^>]*>/g, "")
    .replace(/&(#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[a-zA-Z]{2,8});/g, entity)
    .replace(/[ \t]*\n[ \t\n]*/g, "\n")
    .trim();
}

/** RFC 1896 section 2: formatting commands in angle brackets, "<<" a literal "<". */
export function enrichedToText(text: string): string {
  return text
    .replace(/<param>[\s\S]*?<\/param>/gi, "")
    .split("<<")
    .map((chunk) => chunk.replace(/<[^<>]*>/g, ""))
    .join("<");
}

/** Decodes a text/* body by its charset (default UTF-8, RFC 3261 section 20.15); an unknown charset or bad bytes is 415. */
export function readTextBody(contentTypeHeader: string | undefined, binary: string): TextBody {
  const [type = "text/plain", ...params] = (contentTypeHeader ?? "text/plain").split(";").map((p) => p.trim());
  const mediaType = type.toLowerCase();
  if (!(TEXT_TYPES as readonly string[]).includes(mediaType)) return { status: 415, reason: "Unsupported Media Type" };
  const charset = params.map((p) => /^charset\s*=\s*"?([^";]+)"?$/i.exec(p)?.[1]).find(Boolean) ?? "utf-8";
  let text: string;
  try {
    text = new TextDecoder(charset, { fatal: true }).decode(Buffer.from(binary, "binary"));
  } catch {
    return { status: 415, reason: `Unsupported Charset ${charset}`.slice(0, 60) };
  }
  if (mediaType === "text/html") return { text: htmlToText(text) };
  return { text: mediaType === "text/plain" ? text : enrichedToText(text) };
}
