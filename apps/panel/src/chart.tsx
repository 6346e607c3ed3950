// Time series with uPlot: one chart per measure, resized with its container.
import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface Series {
  label: string;
  values: (number | null)[];
  stroke: string;
}

export function TimeChart({ title, times, series, unit }: { title: string; times: number[]; series: Series[]; unit: string }) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const width = Math.max(el.clientWidth, 240);
    const opts: uPlot.Options = {
      width,
      height: 200,
      series: [
        {},
        ...series.map((s) => ({ label: s.label, stroke: s.stroke, width: 2, value: (_u: uPlot, v: number | null) => (v === null ? '—' : `${v.toFixed(1)} ${unit}`) })),
      ],
      axes: [{}, { values: (_u: uPlot, vals: number[]) => vals.map((v) => `${v} ${unit}`), size: 70 }],
      scales: { x: { time: true } },
      legend: { live: true },
    };
    const data: uPlot.AlignedData = [times, ...series.map((s) => s.values)];
    const plot = new uPlot(opts, data, el);
    const ro = new ResizeObserver(() => plot.setSize({ width: Math.max(el.clientWidth, 240), height: 200 }));
    ro.observe(el);
    return () => {
      ro.disconnect();
      plot.destroy();
    };
  }, [times, series, unit]);
  return (
    <figure className="chart">
      <figcaption>{title}</figcaption>
      {times.length === 0 ? <p className="muted">No data points yet.</p> : null}
      <div ref={box} className="chart-box" role="img" aria-label={`${title}: ${times.length} points`} />
    </figure>
  );
}

/** ISO times to the seconds uPlot plots on its x axis. */
export function toSeconds(iso: string[]): number[] {
  return iso.map((t) => Math.floor(new Date(t).getTime() / 1000));
}
