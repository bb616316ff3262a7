import type { ChartOptions } from "./Chart";

/** The controls shared by every chart on a page: x axis, log y, EMA smoothing. */
export function ChartControls(props: { value: ChartOptions; onChange: (o: ChartOptions) => void }) {
  const o = props.value;
  return (
    <div class="chart-controls">
      <label>
        x axis{" "}
        <select name="xmode" value={o.xMode} onChange={(e) => props.onChange({ ...o, xMode: (e.target as HTMLSelectElement).value as ChartOptions["xMode"] })}>
          <option value="step">step</option>
          <option value="wall">wall time</option>
          <option value="relative">relative time</option>
        </select>
      </label>
      <label>
        <input type="checkbox" name="logy" checked={o.logY} onChange={(e) => props.onChange({ ...o, logY: (e.target as HTMLInputElement).checked })} /> log y
      </label>
      <label>
        <input
          type="checkbox"
          name="smooth"
          checked={o.smoothing > 0}
          onChange={(e) => props.onChange({ ...o, smoothing: (e.target as HTMLInputElement).checked ? 0.9 : 0 })}
        />{" "}
        EMA
      </label>
      {o.smoothing > 0 && (
        <input
          type="range"
          min={0.5}
          max={0.99}
          step={0.01}
          value={o.smoothing}
          title={`EMA weight ${o.smoothing}`}
          onInput={(e) => props.onChange({ ...o, smoothing: Number((e.target as HTMLInputElement).value) })}
        />
      )}
    </div>
  );
}
