import { useEffect, useState } from "preact/hooks";
import { onUnauthenticated } from "./api/client";
import { auth } from "./auth/session";
import { LoginPage } from "./auth/Login";
import { logOut } from "./auth/login";
import { Link } from "./components/Link";
import { lazyPage } from "./components/lazyPage";
import { ComparePage } from "./pages/Compare";
import { ProjectsPage } from "./pages/Projects";
import { RunPage } from "./pages/Run";
import { RunsPage } from "./pages/Runs";
import { UsagePage } from "./pages/Usage";
import { parseRoute, paths, useLocation } from "./router";

const NotebooksPage = lazyPage(() => import("./pages/Notebooks").then((m) => m.NotebooksPage));

export function App() {
  const loc = useLocation();
  const [authed, setAuthed] = useState(auth.ready());
  const [authError, setAuthError] = useState<string | undefined>();
  useEffect(
    () =>
      onUnauthenticated((message) => {
        setAuthError(`Signed out by the server (${message}). Sign in again to return to this page.`);
        setAuthed(false);
      }),
    [],
  );
  if (!authed) return <LoginPage error={authError} onDone={() => { setAuthError(undefined); setAuthed(true); }} />;
  const route = parseRoute(loc.pathname);
  return (
    <div class="app">
      <header class="top">
        <Link href={paths.projects()} class="brand">Nereid</Link>
        <nav>
          <Link href={paths.projects()}>Projects</Link>
          <Link href={paths.usage()}>Usage</Link>
          {auth.session.user && <span class="muted" data-testid="signed-in-as">{auth.session.user}</span>}
          <button class="link" onClick={() => void logOut().then(() => { setAuthError(undefined); setAuthed(false); })}>Sign out</button>
        </nav>
      </header>
      <main>
        {route.page === "projects" && <ProjectsPage />}
        {route.page === "runs" && <RunsPage workspace={route.workspace} project={route.project} search={loc.search} />}
        {route.page === "run" && <RunPage runId={route.runId} search={loc.search} />}
        {route.page === "compare" && <ComparePage workspace={route.workspace} project={route.project} search={loc.search} />}
        {route.page === "notebooks" && <NotebooksPage workspace={route.workspace} project={route.project} sub={route.sub} search={loc.search} />}
        {route.page === "usage" && <UsagePage />}
        {route.page === "notfound" && <p class="error">No page at {loc.pathname}.</p>}
      </main>
    </div>
  );
}
