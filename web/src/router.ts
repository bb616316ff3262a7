// A small history router: the URL (path + query) is the single source of truth for what the page
// shows, so every view can be shared as a link and survives a reload (the server answers every
// non-API path with index.html).
import { useEffect, useState } from "preact/hooks";
export { parseRoute, paths, type Route } from "./routes";

const listeners = new Set<() => void>();

/** Goes to `url` (path + query). `replace` keeps history clean for view tweaks such as sorting. */
export function navigate(url: string, replace = false): void {
  if (url === location.pathname + location.search) return;
  if (replace) history.replaceState(null, "", url);
  else history.pushState(null, "", url);
  listeners.forEach((l) => l());
}

if (typeof window !== "undefined") {
  window.addEventListener("popstate", () => listeners.forEach((l) => l()));
}

/** The current location, re-rendering on every navigation. */
export function useLocation(): { pathname: string; search: string } {
  const [loc, setLoc] = useState({ pathname: location.pathname, search: location.search });
  useEffect(() => {
    const l = () => setLoc({ pathname: location.pathname, search: location.search });
    listeners.add(l);
    return () => void listeners.delete(l);
  }, []);
  return loc;
}

/** Intercepts plain left clicks on internal links so they navigate without a reload. */
export function linkClick(e: MouseEvent, href: string): void {
  if (e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  e.preventDefault();
  navigate(href);
}
