// Compare: the same series from up to 50 runs overlaid, one chart per series path, with a legend
// of run names, colours and the params that differ between the runs.
import { useMemo, useState } from "preact/hooks";
import { api } from "../api/client";
import type { Field, Run } from "../api/types";
import { Chart, colorOf } from "../components/Chart";
import { ChartControls } from "../components/ChartControls";
import { Link } from "../components/Link";
import { StateBadge } from "../components/StateBadge";
import { fmtNum } from "../data/format";
import { useAsync } from "../data/useAsync";
import { chartViewToSearch, MAX_COMPARE, parseChartView, parseCompare } from "../data/viewState";
import { navigate, paths } from "../router";

interface Loaded {
  run: Run;
  fields: Field[];
}

/** Params (non-series fields under params/) whose values differ between the runs, or all if one run. */
export function differingParams(runs: readonly Loaded[]): string[] {
  const values = new Map<string, Set<string>>();
  for (const r of runs) {
    for (const f of r.fields) {
      if (!f.path.startsWith("params/") || f.type.endsWith("series")) continue;
      let s = values.get(f.path);
      if (!s) values.set(f.path, (s = new Set()));
      s.add(JSON.stringify(f.value));
    }
  }
  const all = [...values.keys()].sort();
  if (runs.length < 2) return all.slice(0, 12);
  return all.filter((p) => values.get(p)!.size > 1 || runs.some((r) => !r.fields.some((f) => f.path === p))).slice(0, 12);
}

export function ComparePage(props: { workspace: string; project: string; search: string }) {
  const { runs: ids, path: first } = useMemo(() => parseCompare(props.search), [props.search]);
  const chartView = useMemo(() => parseChartView(props.search), [props.search]);
  const [filter, setFilter] = useState("");
  const { data, error } = useAsync(
    (signal) => Promise.all(ids.map(async (id) => ({ run: await api.run(id, signal), fields: (await api.fields(id, undefined, signal)).fields }))),
    [ids.join(",")],
  );
  const here = paths.compare(props.workspace, props.project);
  if (ids.length === 0) return <p class="page muted">Select runs in the runs table to compare them.</p>;
  if (error) return <p class="page error">{error.message}</p>;
  if (!data) return <p class="page muted">Loading {ids.length} runs…</p>;

  const params = differingParams(data);
  const seriesPaths = [...new Set(data.flatMap((d) => d.fields.filter((f) => f.type === "float_series" && !f.path.startsWith("sys/")).map((f) => f.path)))].sort();
  if (first && seriesPaths.includes(first)) seriesPaths.splice(seriesPaths.indexOf(first), 1), seriesPaths.unshift(first);
  const shown = filter ? seriesPaths.filter((p) => p.includes(filter)) : seriesPaths;

  return (
    <div class="page compare-page">
      <h1>
        <Link href={paths.runs(props.workspace, props.project)}>
          {props.workspace}/{props.project}
        </Link>{" "}
        / compare {data.length} runs{ids.length >= MAX_COMPARE ? ` (at most ${MAX_COMPARE})` : ""}
      </h1>
      <table class="plain legend" data-testid="compare-legend">
        <thead>
          <tr>
            <th />
            <th>Run</th>
            <th>Name</th>
            <th>State</th>
            {params.map((p) => (
              <th key={p} class="mono">{p.slice("params/".length)}</th>
            ))}
          </tr>
        </thead>
        <tbody>
          {data.map((d, i) => (
            <tr key={d.run.id}>
              <td>
                <span class="swatch" style={{ background: colorOf(i) }} />
              </td>
              <td>
                <Link href={paths.run(d.run.id)}>{d.run.id}</Link>
              </td>
              <td>{d.run.name}</td>
              <td>
                <StateBadge run={d.run} />
              </td>
              {params.map((p) => (
                <td key={p} class="num">{fmtNum(d.fields.find((f) => f.path === p)?.value)}</td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
      <div class="section-head">
        <h2>Series ({seriesPaths.length})</h2>
        <ChartControls value={chartView} onChange={(c) => navigate(here + chartViewToSearch(props.search, c), true)} />
        <input type="search" placeholder="filter series" value={filter} onInput={(e) => setFilter((e.target as HTMLInputElement).value)} />
      </div>
      <div class="chart-grid wide">
        {shown.map((path) => {
          const having = data.map((d, i) => ({ d, i })).filter(({ d }) => d.fields.some((f) => f.path === path));
          return (
            <Chart
              key={path}
              title={path}
              height={260}
              options={chartView}
              series={having.map(({ d }) => ({ runId: d.run.id, path, label: `${d.run.id} ${d.run.name}`.trim() }))}
              colors={having.map(({ i }) => colorOf(i))}
            />
          );
        })}
      </div>
    </div>
  );
}
