// A page whose module is fetched the first time it is shown. The notebook pages carry the markdown
// renderer and the HTML sanitizer, about a third of the UI's script, which the runs table and run
// pages never need: loading them on demand keeps the first load of every other page smaller.
import type { ComponentType } from "preact";
import { useEffect, useState } from "preact/hooks";

export function lazyPage<P extends object>(load: () => Promise<ComponentType<P>>): ComponentType<P> {
  let loaded: ComponentType<P> | undefined;
  let pending: Promise<ComponentType<P>> | undefined;
  return function LazyPage(props: P) {
    const [page, setPage] = useState<{ c: ComponentType<P> } | undefined>(loaded && { c: loaded });
    const [error, setError] = useState<string>();
    useEffect(() => {
      if (page) return;
      let live = true;
      pending ??= load();
      pending.then(
        (c) => {
          loaded = c;
          if (live) setPage({ c });
        },
        (e: unknown) => {
          pending = undefined; // a later visit tries again (e.g. after a server restart)
          if (live) setError(e instanceof Error ? e.message : String(e));
        },
      );
      return () => {
        live = false;
      };
    }, []);
    if (error) return <p class="error">Could not load this page: {error}. Reload to try again.</p>;
    if (!page) return <p class="muted">Loading…</p>;
    const Page = page.c;
    return <Page {...props} />;
  };
}
