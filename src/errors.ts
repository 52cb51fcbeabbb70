/**
 * Errors a user sees, in one table as fastify's lib/errors.js keeps them: each
 * code has its message template, its exit status and the line of
 * docs/errors.md that says what to do about it. A throw site names the code and
 * fills the template (`new DemarcError("E_DB_UNREACHABLE", { target, ... })`);
 * the CLI prints `demarc: E_CODE: message` and exits with the code's status,
 * never with a stack trace.
 */

/** Exit statuses, sysexits-style. */
export const EXIT = { ok: 0, failure: 1, usage: 64, unavailable: 69, software: 70, config: 78 } as const;

/** "{name}" marks a parameter; a function builds a message a template cannot say. */
type Template = string | ((p: never) => string);

interface Entry {
  exit: number;
  message: Template;
}

/** "{detail}" codes take a message made at the throw site, or a list of problems. */
const DETAIL = "{detail}";

const TABLE = {
  E_USAGE: { exit: EXIT.usage, message: DETAIL },
  E_CONFIG: { exit: EXIT.config, message: DETAIL },
  E_CONFIG_READ: { exit: EXIT.config, message: "{file}: cannot read config file ({reason})" },
  E_CONFIG_SYNTAX: { exit: EXIT.config, message: DETAIL },
  E_CONFIG_ENV: { exit: EXIT.config, message: DETAIL },
  E_CONFIG_INVALID: { exit: EXIT.config, message: DETAIL },
  E_POLICY: { exit: EXIT.config, message: DETAIL },
  E_DB_URL: { exit: EXIT.unavailable, message: 'archive.url "{url}" is neither sqlite:PATH nor postgres://...' },
  E_DB_SCHEMA: {
    exit: EXIT.unavailable,
    message: 'archive.url: schema "{schema}" must be one name of letters, digits and _ (at most 63), not starting with a digit',
  },
  E_DB_OPEN: { exit: EXIT.unavailable, message: "archive database {target}: cannot create it or its folder ({reason})" },
  E_DB_UNREACHABLE: {
    exit: EXIT.unavailable,
    message: "archive database {target} is unreachable after {seconds} s (archive.connect_timeout_s): {reason}",
  },
  E_ARCHIVE_JOURNAL: { exit: EXIT.failure, message: DETAIL },
  E_LISTEN: { exit: EXIT.unavailable, message: "{listener}: {address} {problem}" },
  E_DNS: { exit: EXIT.unavailable, message: "DNS lookup of {type} {name} failed: {reason}" },
  E_DNS_NO_SERVER: { exit: EXIT.unavailable, message: "no DNS server answered for {type} {name}: {reason}" },
  E_NO_RESOLVER: { exit: EXIT.unavailable, message: "no DNS resolver" },
  E_SRV_DECLINED: {
    exit: EXIT.unavailable,
    message: '{domain} publishes "." for {services}: the service is decidedly not available',
  },
  E_SIP_CONNECT: {
    exit: EXIT.unavailable,
    message: (p: { domain: string; problems: readonly string[] }) =>
      `no SIP route to ${p.domain}${p.problems.length ? ` (${p.problems.join("; ")})` : ""}`,
  },
  E_SIP_UDP: { exit: EXIT.unavailable, message: "SIP over UDP needs the UDP listener enabled" },
  E_ADMIN_OFF: {
    exit: EXIT.unavailable,
    message: "the gateway's admin server is disabled (admin.enabled: false); this command goes through it",
  },
  E_GATEWAY_DOWN: { exit: EXIT.unavailable, message: "the gateway is not running or not reachable at {base} ({reason})" },
  E_ADMIN_ANSWER: {
    exit: EXIT.unavailable,
    message: "{url} answered {status} with something other than JSON; is that the demarc admin server?",
  },
  E_ADMIN_API: { exit: EXIT.failure, message: DETAIL },
  E_EXISTS: { exit: EXIT.failure, message: "{jid} already exists (use demarc users passwd to change the password)" },
  E_NO_USER: { exit: EXIT.failure, message: "{jid} does not exist" },
  E_NO_OFFICER: { exit: EXIT.failure, message: 'no console account "{name}" (demarc officers list shows them)' },
  E_EXPORT_OUTPUT: { exit: EXIT.failure, message: "--output {path}: cannot write ({reason}); nothing was exported" },
  E_EXPORT_INCOMPLETE: {
    exit: EXIT.failure,
    message: "--output {path}: cannot write ({reason}) after {count} record(s); the file is incomplete",
  },
  E_INTERNAL: { exit: EXIT.software, message: DETAIL },
} as const satisfies Record<string, Entry>;

export type ErrorCode = keyof typeof TABLE;

/** Where each code is explained: one line of docs/errors.md, anchored by the code. */
export const ERRORS_DOC = "docs/errors.md";

/** The table: code -> message template, exit status, doc anchor. */
export const ERRORS: { readonly [C in ErrorCode]: (typeof TABLE)[C] & { readonly doc: string } } = Object.fromEntries(
  Object.entries(TABLE).map(([code, e]) => [code, { ...e, doc: `${ERRORS_DOC}#${code.toLowerCase()}` }]),
) as never;

type Placeholders<S extends string> = S extends `${string}{${infer K}}${infer Rest}` ? K | Placeholders<Rest> : never;

/** The parameters a code's template needs, checked at the throw site. */
export type ErrorParams<C extends ErrorCode> = C extends ErrorCode
  ? (typeof TABLE)[C]["message"] extends (p: infer P) => string
    ? P
    : { readonly [K in Placeholders<(typeof TABLE)[C]["message"] & string>]: string | number }
  : never;

/** Codes whose message is made at the throw site, so a list of problems may stand for it. */
export type DetailCode = { [C in ErrorCode]: (typeof TABLE)[C]["message"] extends typeof DETAIL ? C : never }[ErrorCode];

function render(template: Template, params: Record<string, unknown>): string {
  if (typeof template === "function") return (template as (p: unknown) => string)(params);
  return template.replace(/\{(\w+)\}/g, (m, name: string) => (name in params ? String(params[name]) : m));
}

/** "first (and 2 more problems)": a list of problems said in one line. */
function summary(problems: readonly string[]): string {
  const more = problems.length - 1;
  return more ? `${problems[0]} (and ${more} more problem${more > 1 ? "s" : ""})` : (problems[0] ?? "");
}

/**
 * An error with a code of the table. Each of `problems` is one line the CLI
 * prints; the message is the first of them (with a count of the rest).
 */
export class DemarcError<C extends ErrorCode = ErrorCode> extends Error {
  readonly exitCode: number;
  readonly problems: readonly string[];

  constructor(
    readonly code: C,
    params: ErrorParams<C> | (C extends DetailCode ? readonly string[] : never),
  ) {
    const problems = Array.isArray(params) ? [...(params as readonly string[])] : [render(TABLE[code].message, params as Record<string, unknown>)];
    super(summary(problems));
    this.name = "DemarcError";
    this.exitCode = TABLE[code].exit;
    this.problems = problems;
  }

  get doc(): string {
    return ERRORS[this.code].doc;
  }
}

/**
 * A kind of error is known by its exit status, whichever code it has, so
 * `err instanceof ConfigError` holds for every config problem (E_CONFIG_READ
 * as much as E_CONFIG); a subclass of a kind keeps the usual meaning.
 */
function isKind(kind: abstract new (...a: never[]) => unknown, self: unknown, exit: number, x: unknown): boolean {
  if (self !== kind) return Function.prototype[Symbol.hasInstance].call(self, x);
  return x instanceof DemarcError && x.exitCode === exit;
}

type ConfigCode = "E_CONFIG" | "E_CONFIG_SYNTAX" | "E_CONFIG_ENV" | "E_CONFIG_INVALID" | "E_POLICY";

/** Config file problems: exit 78 (EX_CONFIG). */
export class ConfigError extends DemarcError<ConfigCode> {
  constructor(detail: string | readonly string[], code: ConfigCode = "E_CONFIG") {
    super(code, typeof detail === "string" ? { detail } : detail);
  }

  static override [Symbol.hasInstance](x: unknown): boolean {
    return isKind(ConfigError, this, EXIT.config, x);
  }
}

/** Wrong usage of a command: exit 64 (EX_USAGE). */
export class UsageError extends DemarcError<"E_USAGE"> {
  constructor(message: string) {
    super("E_USAGE", { detail: message });
  }

  static override [Symbol.hasInstance](x: unknown): boolean {
    return isKind(UsageError, this, EXIT.usage, x);
  }
}

/** One line for the user, whatever was thrown. */
export function oneLine(err: unknown): string {
  if (err instanceof Error) return err.message.split("\n")[0] ?? err.name;
  return String(err);
}
