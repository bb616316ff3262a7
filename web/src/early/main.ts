// Inlined into index.html at build time (vite.config.ts) and run before the app's bundle is
// fetched: when the page is a runs table, its first page is requested right away, so the request
// overlaps loading and running the bundle instead of following it (docs/performance.md, issue 6).
// It must stay tiny and import nothing of Preact or the app.
import { startEarly } from "../api/early";
import { TOKEN_KEY } from "../auth/tokenKey";
import { runsPageUrl } from "../data/runsQuery";
import { parseView } from "../data/viewState";
import { parseRoute } from "../routes";

try {
  const route = parseRoute(location.pathname);
  if (route.page === "runs") {
    // The same credentials the app sends: a remembered API token, else the session cookie (which
    // the browser adds by itself; a GET needs no CSRF token).
    let token: string | null = null;
    try {
      token = localStorage.getItem(TOKEN_KEY) ?? sessionStorage.getItem(TOKEN_KEY);
    } catch {
      /* storage disabled: the cookie alone */
    }
    startEarly(runsPageUrl(route.workspace, route.project, parseView(location.search), null), token ? { Authorization: `Bearer ${token}` } : {});
  }
} catch {
  /* never break the page: the app asks for itself */
}
