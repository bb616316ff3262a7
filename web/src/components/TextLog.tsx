// A string series (stdout, stderr, any text log) as a scrolling log with search. Pages of 10,000
// lines are fetched on demand; the search filters what is loaded.
import { useEffect, useMemo, useState } from "preact/hooks";
import { api } from "../api/client";

const PAGE = 10_000;

export function TextLog(props: { runId: string; path: string; version?: number }) {
  const [lines, setLines] = useState<{ step: number; text: string }[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [query, setQuery] = useState("");
  const load = async (from: string | null, replace: boolean) => {
    try {
      const p = await api.series<string>(props.runId, props.path, { limit: PAGE, cursor: from });
      const got = p.steps.map((s, i) => ({ step: s, text: String(p.values[i] ?? "") }));
      setLines((l) => (replace ? got : [...l, ...got]));
      setCursor(p.next_cursor);
    } catch (e) {
      setError((e as Error).message);
    }
  };
  useEffect(() => {
    void load(null, true);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [props.runId, props.path, props.version]);
  const shown = useMemo(() => {
    const q = query.toLowerCase();
    return q ? lines.filter((l) => l.text.toLowerCase().includes(q)) : lines;
  }, [lines, query]);
  return (
    <div class="text-log" data-testid="text-log" data-path={props.path}>
      <div class="chart-head">
        <span class="chart-title mono">{props.path}</span>
        <input type="search" name="log-search" placeholder="search" value={query} onInput={(e) => setQuery((e.target as HTMLInputElement).value)} />
        <span class="muted small">
          {query ? `${shown.length} of ` : ""}
          {lines.length} lines{cursor ? "+" : ""}
        </span>
      </div>
      {error && <p class="error">{error}</p>}
      <pre class="log mono">
        {shown.map((l, i) => (
          <div key={i}>
            <span class="muted">{l.step} </span>
            {l.text}
          </div>
        ))}
      </pre>
      {cursor && <button onClick={() => void load(cursor, false)}>Load more</button>}
    </div>
  );
}
