/**
 * Calls the running gateway's admin API, for commands that need something only
 * the gateway can do (a quarantine release is a delivery over its listeners).
 * The address comes from the config's admin section.
 */
import { requireSettings, type LoadedConfig } from "../config/load.js";
import { DemarcError, UsageError } from "../errors.js";

export interface ApiAnswer {
  status: number;
  body: Record<string, unknown>;
}

/** A wildcard bind address is reached on the matching loopback address. */
export function adminBase(cfg: LoadedConfig): string {
  const { host, port, enabled } = cfg.admin;
  if (!enabled) throw new DemarcError("E_ADMIN_OFF", {});
  const target = host === "0.0.0.0" || host === "" ? "127.0.0.1" : host === "::" ? "::1" : host;
  return `http://${target.includes(":") ? `[${target}]` : target}:${port}`;
}

export async function adminCall(cfg: LoadedConfig, method: "GET" | "POST", path: string, body?: unknown, timeoutMs = 60_000): Promise<ApiAnswer> {
  const base = adminBase(cfg);
  // Only now is the admin token's variable needed: other commands run without it.
  requireSettings(cfg, "admin.token");
  let res: Response;
  try {
    res = await fetch(`${base}${path}`, {
      method,
      headers: {
        ...(body === undefined ? {} : { "content-type": "application/json" }),
        ...(cfg.admin.token ? { authorization: `Bearer ${cfg.admin.token}` } : {}),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    const e = err as Error & { cause?: { code?: string } };
    const why = e.name === "TimeoutError" ? `no answer within ${timeoutMs / 1000} s` : (e.cause?.code ?? e.message);
    throw new DemarcError("E_GATEWAY_DOWN", { base, reason: why });
  }
  const text = await res.text();
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new DemarcError("E_ADMIN_ANSWER", { url: `${base}${path}`, status: res.status });
  }
  return { status: res.status, body: parsed };
}

/** The API's one-line error as the CLI's error: bad requests are usage errors, the rest failures. */
export function apiError(a: ApiAnswer): DemarcError {
  const message = typeof a.body.error === "string" ? a.body.error : `admin API answered ${a.status}`;
  return a.status === 400 ? new UsageError(message) : new DemarcError("E_ADMIN_API", { detail: message });
}
