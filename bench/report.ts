export interface Benchmark {
  id: string;
  title: string;
  run(): Promise<void>;
}

export interface Figure {
  bench: string;
  name: string;
  value: number;
  unit: string;
  /** the anchor's value in the same unit, when one exists */
  anchor?: number;
  anchorLabel?: string;
  /** true when a bigger number is better (throughput), false for latency/memory */
  higherIsBetter?: boolean;
}

/** Prints one human line (our figure, the anchor, the ratio) and one machine line. */
export function report(f: Figure): void {
  const value = Number.isInteger(f.value) ? String(f.value) : f.value.toPrecision(4);
  let human = `${f.bench} ${f.name}: ${value} ${f.unit}`;
  if (f.anchor !== undefined) {
    const ratio = f.higherIsBetter === false ? f.anchor / f.value : f.value / f.anchor;
    human += ` | anchor ${f.anchor} ${f.unit} (${f.anchorLabel ?? 'anchor'}) | ${ratio.toFixed(2)}x ${ratio >= 1 ? 'better' : 'worse'}`;
  }
  console.log(human);
  console.log(`BENCH ${f.bench} ${f.name}=${value} ${f.unit}`);
}
