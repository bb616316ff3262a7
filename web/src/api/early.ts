// Requests started by the script inlined at the top of index.html (src/early/main.ts) while the
// app's bundle is still loading, handed to the app's first request for the same URL. The runs
// table's first page is then on its way before the bundle has run (docs/web.md "Serving").

export interface EarlyRequest {
  url: string;
  /** performance.now() when it was started. */
  at: number;
  response: Promise<Response>;
}

declare global {
  interface Window {
    __nereidEarly?: EarlyRequest[];
  }
}

/** An answer older than this is not handed out (the user sat on the login page, say). */
export const EARLY_MAX_AGE_MS = 10_000;

/** Starts a GET of `url` for the app to pick up. */
export function startEarly(url: string, headers: Record<string, string>): void {
  const list = (window.__nereidEarly ??= []);
  const response = fetch(url, { headers });
  // Nobody may ever take it (the app fetches on its own when the URL differs): no unhandled
  // rejection for a failed early request.
  response.catch(() => undefined);
  list.push({ url, at: performance.now(), response });
}

/**
 * The early response for exactly `url`, at most once, or undefined. Only a successful answer is
 * handed out: anything else (401 before signing in, a network error) is asked again by the app,
 * which knows how to report it.
 */
export async function takeEarly(url: string): Promise<Response | undefined> {
  if (typeof window === "undefined" || !window.__nereidEarly) return undefined;
  const list = window.__nereidEarly;
  const i = list.findIndex((e) => e.url === url);
  if (i < 0) return undefined;
  const [e] = list.splice(i, 1);
  if (performance.now() - e!.at > EARLY_MAX_AGE_MS) return undefined;
  try {
    const r = await e!.response;
    return r.ok ? r : undefined;
  } catch {
    return undefined;
  }
}
