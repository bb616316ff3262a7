import { api } from "../api/client";
import type { Project } from "../api/types";
import { Link } from "../components/Link";
import { useAsync } from "../data/useAsync";
import { paths } from "../router";

export function ProjectsPage() {
  const { data, error } = useAsync(async (signal) => {
    const ws = await api.workspaces();
    const lists = await Promise.all(ws.workspaces.map((w) => api.projects(w.name)));
    void signal;
    return ws.workspaces.map((w, i) => ({ workspace: w.name, projects: lists[i]?.projects ?? [] }));
  }, []);
  if (error) return <p class="error">{error.message}</p>;
  if (!data) return <p class="muted">Loading…</p>;
  return (
    <div class="page">
      <h1>Projects</h1>
      {data.map((w) => (
        <section key={w.workspace}>
          <h2>{w.workspace}</h2>
          <table class="plain">
            <thead>
              <tr><th>Project</th><th>Key</th><th>Runs</th><th>Created</th><th></th></tr>
            </thead>
            <tbody>
              {w.projects.map((p: Project) => (
                <tr key={p.name}>
                  <td><Link href={paths.runs(p.workspace, p.name)}>{p.name}</Link></td>
                  <td>{p.key}</td>
                  <td>{p.run_count ?? ""}</td>
                  <td>{p.creation_time?.slice(0, 19).replace("T", " ") ?? ""}</td>
                  <td><Link href={paths.notebooks(p.workspace, p.name)}>notebooks</Link></td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      ))}
    </div>
  );
}
