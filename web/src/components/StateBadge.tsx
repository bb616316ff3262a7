import type { Run } from "../api/types";
import { fmtDuration } from "../data/format";

/** A run that says it is running but has not pinged for this long is shown as not responding. */
export const NOT_RESPONDING_MS = 5 * 60 * 1000;

export function isStale(run: Run, now: number): boolean {
  return run.state === "running" && now - Date.parse(run.ping_time) > NOT_RESPONDING_MS;
}

export function StateBadge(props: { run: Run; now?: number }) {
  const stale = isStale(props.run, props.now ?? Date.now());
  return (
    <span class={"badge " + (stale ? "stale" : props.run.state)} title={stale ? "no ping for over 5 minutes" : undefined}>
      {stale ? "not responding" : props.run.state}
    </span>
  );
}

export function runDurationMs(run: Run, now: number): number {
  const start = Date.parse(run.creation_time);
  const end = run.state === "running" ? now : Date.parse(run.modification_time);
  return end - start;
}

export function Duration(props: { run: Run; now: number }) {
  return <span class="badge">{fmtDuration(runDurationMs(props.run, props.now))}</span>;
}
