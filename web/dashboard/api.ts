/**
 * The admin API as the console calls it: same-origin only (the base is a path such as `/api`, never
 * a URL, so the token cannot be sent elsewhere), `Authorization: Bearer <token>`, a timeout, and
 * one error type whose `kind` the page turns into a message.
 */
import { sameOriginBase } from "./same-origin.js";
import type { ClientDetail, ClientList, EventList, Overview, RetainedList } from "../../src/admin/api-types.js";

export type ApiErrorKind =
  /** 401: the token is wrong (or was rotated). */
  | "unauthorized"
  /** 404: unknown client, client not connected, or (on /api/overview) ADMIN_TOKEN not configured. */
  | "not-found"
  /** No answer: network down, Worker unreachable, timeout. */
  | "unreachable"
  /** 5xx. */
  | "server"
  /** Anything else: another 4xx, or a body that is not the JSON expected. */
  | "http";

export class ApiError extends Error {
  constructor(
    readonly kind: ApiErrorKind,
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

/** Every request's outcome, for the page's status line (ok, unreachable, token refused…). */
export type OutcomeListener = (error: ApiError | null) => void;

const TIMEOUT_MS = 10_000;

type Query = Record<string, string | number | boolean | undefined>;

export class ApiClient {
  private readonly base: string;

  constructor(
    base: string,
    private readonly token: () => string | null,
    private readonly onOutcome: OutcomeListener = () => {},
  ) {
    this.base = sameOriginBase(base);
  }

  overview(): Promise<Overview> {
    return this.json<Overview>("GET", "/overview");
  }

  clients(query: { q?: string | undefined; connected?: boolean | undefined; limit?: number | undefined; after?: string | undefined } = {}): Promise<ClientList> {
    return this.json<ClientList>("GET", "/clients", query);
  }

  client(clientId: string): Promise<ClientDetail> {
    return this.json<ClientDetail>("GET", `/clients/${encodeURIComponent(clientId)}`);
  }

  async disconnect(clientId: string): Promise<void> {
    await this.request("POST", `/clients/${encodeURIComponent(clientId)}/disconnect`);
  }

  retained(query: { filter?: string | undefined; after?: string | undefined } = {}): Promise<RetainedList> {
    return this.json<RetainedList>("GET", "/retained", query);
  }

  async deleteRetained(topic: string): Promise<void> {
    await this.request("DELETE", "/retained", { topic });
  }

  events(limit?: number): Promise<EventList> {
    return this.json<EventList>("GET", "/events", { limit });
  }

  private async json<T>(method: string, path: string, query?: Query): Promise<T> {
    const res = await this.request(method, path, query);
    try {
      return (await res.json()) as T;
    } catch {
      const error = new ApiError("http", res.status, `${path}: the answer is not JSON`);
      this.onOutcome(error);
      throw error;
    }
  }

  private async request(method: string, path: string, query: Query = {}): Promise<Response> {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== "") params.set(k, String(v));
    const search = params.size > 0 ? `?${params}` : "";
    const url = new URL(`${this.base}${path}${search}`, location.origin);
    if (url.origin !== location.origin) throw new Error("refusing a cross-origin API URL");
    const token = this.token();
    if (token === null) {
      const error = new ApiError("unauthorized", 0, "no token");
      this.onOutcome(error);
      throw error;
    }
    let res: Response;
    try {
      res = await fetch(url, {
        method,
        headers: { Authorization: `Bearer ${token}`, Accept: "application/json" },
        cache: "no-store",
        credentials: "omit",
        redirect: "error",
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
    } catch (e) {
      const timedOut = e instanceof DOMException && e.name === "TimeoutError";
      const error = new ApiError("unreachable", 0, timedOut ? "the API did not answer in time" : "the API cannot be reached");
      this.onOutcome(error);
      throw error;
    }
    if (res.ok) {
      this.onOutcome(null);
      return res;
    }
    const detail = await errorDetail(res);
    const kind: ApiErrorKind = res.status === 401 ? "unauthorized" : res.status === 404 ? "not-found" : res.status >= 500 ? "server" : "http";
    const error = new ApiError(kind, res.status, `${res.status} ${res.statusText}${detail ? `: ${detail}` : ""}`.trim());
    // A 404 on one client is not a fault of the API; report the request as answered.
    this.onOutcome(kind === "not-found" && path !== "/overview" ? null : error);
    throw error;
  }
}

/** A short reason from an error body: `{"error": "..."}`/`{"message": "..."}` or plain text. */
async function errorDetail(res: Response): Promise<string> {
  let text: string;
  try {
    text = (await res.text()).trim();
  } catch {
    return "";
  }
  try {
    const body = JSON.parse(text) as { error?: unknown; message?: unknown };
    const reason = body.message ?? body.error;
    if (typeof reason === "string") return reason.slice(0, 200);
  } catch {
    // Not JSON.
  }
  return text.length > 0 && text.length <= 200 && !text.startsWith("<") ? text : "";
}
