// A small history router: the URL (path + query) is the single source of truth for what the page
// shows, so every view can be shared as a link and survives a reload (the server answers every
// non-API path with index.html).
import { useEffect, useState } from "preact/hooks";
import { notebookPageOf, notebookPaths, type NotebookPage } from "./data/notebookView";

export type Route =
  | { page: "projects" }
  | { page: "runs"; workspace: string; project: string }
  | { page: "run"; runId: string }
  | { page: "compare"; workspace: string; project: string }
  | { page: "notebooks"; workspace: string; project: string; sub: NotebookPage }
  | { page: "usage" }
  | { page: "notfound" };

export function parseRoute(pathname: string): Route {
  const seg = pathname.split("/").filter(Boolean).map(decodeURIComponent);
  if (seg.length === 0) return { page: "projects" };
  if (seg[0] === "p" && seg.length === 3) return { page: "runs", workspace: seg[1]!, project: seg[2]! };
  if (seg[0] === "p" && seg.length === 4 && seg[3] === "compare")
    return { page: "compare", workspace: seg[1]!, project: seg[2]! };
  if (seg[0] === "p" && seg.length >= 4 && seg[3] === "notebooks") {
    const sub = notebookPageOf(seg.slice(4));
    if (sub) return { page: "notebooks", workspace: seg[1]!, project: seg[2]!, sub };
  }
  if (seg[0] === "runs" && seg.length === 2) return { page: "run", runId: seg[1]! };
  if (seg[0] === "usage" && seg.length === 1) return { page: "usage" };
  return { page: "notfound" };
}

export const paths = {
  projects: () => "/",
  runs: (ws: string, p: string) => `/p/${encodeURIComponent(ws)}/${encodeURIComponent(p)}`,
  compare: (ws: string, p: string) => `/p/${encodeURIComponent(ws)}/${encodeURIComponent(p)}/compare`,
  run: (id: string) => `/runs/${encodeURIComponent(id)}`,
  notebooks: notebookPaths.list,
  usage: () => "/usage",
};

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
