// One run: state and duration badges, tags, the fields as a tree, a chart of every float series,
// text series as logs, image series as galleries, files to download, the code it came from.
// While the run is running the page polls and updates in place.
import { useLayoutEffect, useMemo, useState } from "preact/hooks";
import { api } from "../api/client";
import type { Field, FileRef, Run } from "../api/types";
import { Chart } from "../components/Chart";
import { ChartControls } from "../components/ChartControls";
import { FieldTree } from "../components/FieldTree";
import { FileLink, ImageSeries } from "../components/Files";
import { Link } from "../components/Link";
import { NotebookLink } from "../components/NotebookLink";
import { SourceInfo } from "../components/SourceInfo";
import { Duration, StateBadge } from "../components/StateBadge";
import { Tags } from "../components/Tags";
import { TextLog } from "../components/TextLog";
import { fmtTime } from "../data/format";
import { chartViewToSearch, parseChartView } from "../data/viewState";
import { navigate, paths } from "../router";

const POLL_MS = 5000;

export function RunPage(props: { runId: string; search: string }) {
  const [run, setRun] = useState<Run | null>(null);
  const [fields, setFields] = useState<Field[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [now, setNow] = useState(Date.now());
  const [chartFilter, setChartFilter] = useState("");
  const chartView = useMemo(() => parseChartView(props.search), [props.search]);

  // Before the first paint rather than a frame after it: the charts wait for these fields.
  useLayoutEffect(() => {
    let stop = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const tick = async () => {
      try {
        const [r, f] = await Promise.all([api.run(props.runId), api.fields(props.runId)]);
        if (stop) return;
        setRun(r);
        setFields(f.fields);
        setNow(Date.now());
        setError(null);
        if (r.state === "running") timer = setTimeout(tick, POLL_MS);
      } catch (e) {
        if (!stop) setError((e as Error).message);
      }
    };
    void tick();
    return () => {
      stop = true;
      clearTimeout(timer);
    };
  }, [props.runId]);

  if (error && !run) return <p class="error page">{error}</p>;
  if (!run) return <p class="muted page">Loading…</p>;
  const [ws, project] = run.project.split("/");
  const floats = fields.filter((f) => f.type === "float_series" && !f.path.startsWith("sys/"));
  const shownFloats = chartFilter ? floats.filter((f) => f.path.includes(chartFilter)) : floats;
  const texts = fields.filter((f) => f.type === "string_series");
  const images = fields.filter((f) => f.type === "file_series");
  // Files under source_code/ are listed in the Source section.
  const files = fields.filter((f) => (f.type === "file" || f.type === "file_set") && !f.path.startsWith("source_code/"));

  return (
    <div class="page run-page">
      <div class="run-head">
        <h1>
          <Link href={paths.runs(ws ?? "", project ?? "")}>{run.project}</Link> / {run.id}
          {run.name && <span class="muted"> {run.name}</span>}
        </h1>
        <div class="badges">
          <StateBadge run={run} now={now} /> <Duration run={run} now={now} />
          <span class="muted small">
            created {fmtTime(run.creation_time)} · last ping {fmtTime(run.ping_time)} · owner {run.owner}
            {run.custom_run_id ? ` · custom id ${run.custom_run_id}` : ""}
          </span>
          <NotebookLink project={run.project} fields={fields} />
        </div>
        <div>
          <Tags runId={run.id} tags={run.tags} onChange={(tags) => setRun({ ...run, tags })} />
        </div>
        {run.description && <p>{run.description}</p>}
      </div>

      <section>
        <div class="section-head">
          <h2>Charts ({floats.length})</h2>
          <ChartControls value={chartView} onChange={(c) => navigate(paths.run(run.id) + chartViewToSearch(props.search, c), true)} />
          {floats.length > 6 && <input type="search" placeholder="filter charts" value={chartFilter} onInput={(e) => setChartFilter((e.target as HTMLInputElement).value)} />}
        </div>
        <div class="chart-grid">
          {shownFloats.map((f) => (
            <Chart key={f.path} title={f.path} series={[{ runId: run.id, path: f.path, label: f.path }]} options={chartView} version={f.count ?? 0} />
          ))}
        </div>
      </section>

      {texts.length > 0 && (
        <section>
          <h2>Logs</h2>
          {texts.map((f) => (
            <TextLog key={f.path} runId={run.id} path={f.path} version={f.count ?? 0} />
          ))}
        </section>
      )}

      {images.length > 0 && (
        <section>
          <h2>Images and file series</h2>
          <div class="chart-grid">
            {images.map((f) => (
              <ImageSeries key={f.path} runId={run.id} path={f.path} version={f.count ?? 0} />
            ))}
          </div>
        </section>
      )}

      {files.length > 0 && (
        <section>
          <h2>Files</h2>
          <ul>
            {files.map((f) => (
              <li key={f.path}>
                <span class="mono">{f.path}</span>:{" "}
                {f.type === "file" ? (
                  <FileLink runId={run.id} path={f.path} file={f.value as FileRef} />
                ) : (
                  ((f.value as FileRef[]) ?? []).map((x) => (
                    <span key={x.sha256}>
                      <FileLink runId={run.id} path={f.path} file={x} byContent />{" "}
                    </span>
                  ))
                )}
              </li>
            ))}
          </ul>
        </section>
      )}

      <SourceInfo runId={run.id} fields={fields} />

      <section>
        <h2>Fields</h2>
        <FieldTree fields={fields} />
      </section>
    </div>
  );
}
