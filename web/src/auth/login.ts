// Password login against the server's session endpoints (docs/http-api.md, "Web login"):
//   POST /api/v1/login {user, password} -> HttpOnly SameSite=Strict cookie + {"csrf_token"}
//   GET  /api/v1/session                 -> the CSRF token again, for a reloaded page
//   POST /api/v1/logout                  -> ends the session (needs X-CSRF-Token like any write)
// These bypass api/client.ts on purpose: a 401 here means "not logged in", not "session lost".
import { ApiError } from "../api/client";
import { auth } from "./session";

async function errorOf(r: Response, what: string): Promise<ApiError> {
  let code = "http_" + r.status;
  let message = `${what}: HTTP ${r.status}`;
  try {
    const j = (await r.json()) as { error?: { code?: string; message?: string } };
    if (j.error?.code) code = j.error.code;
    if (j.error?.message) message = j.error.message;
  } catch {
    /* not JSON: keep the generic message */
  }
  return new ApiError(r.status, code, message);
}

/**
 * Adopts the browser's session cookie if it still names a live session. Resolves true when it
 * does; false when there is none (401); throws for anything else (429, the server being down), so
 * the login page can say why instead of pretending the user is logged out.
 */
export async function resumeSession(signal?: AbortSignal): Promise<boolean> {
  const init: RequestInit = { headers: { Accept: "application/json" } };
  if (signal) init.signal = signal;
  const r = await fetch("/api/v1/session", init);
  if (r.status === 401) return false;
  if (!r.ok) throw await errorOf(r, "GET /api/v1/session");
  const j = (await r.json()) as { user: string; via: string; csrf_token?: string };
  if (j.via !== "session" || !j.csrf_token) return false;
  auth.session.set(j.user, j.csrf_token);
  return true;
}

/** Logs in; on failure throws ApiError with the server's message (wrong password, throttled). */
export async function logIn(user: string, password: string): Promise<void> {
  const r = await fetch("/api/v1/login", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ user, password }),
  });
  if (!r.ok) throw await errorOf(r, "POST /api/v1/login");
  const j = (await r.json()) as { user: string; csrf_token: string };
  auth.token.clear(); // the session is who the user asked to be
  auth.session.set(j.user, j.csrf_token);
}

/**
 * Signs out: ends the server session when there is one (a failure there still forgets the local
 * credentials: the user asked to leave), and forgets a typed token.
 */
export async function logOut(): Promise<void> {
  if (auth.session.ready()) {
    try {
      await fetch("/api/v1/logout", { method: "POST", headers: auth.session.headers() });
    } catch {
      /* offline: the cookie expires on its own */
    }
  }
  auth.clear();
}
