// What one `pnpm bench` run measures with, and the helper that repeats each measurement.

export interface BenchSettings {
  /** Events per throughput run. */
  readonly events: number;
  /** Runs per figure: the table shows their median and spread. */
  readonly runs: number;
  readonly quick: boolean;
}

/** `settings.runs` samples of `run`, each printed as it completes. */
export async function repeat(
  settings: BenchSettings,
  label: string,
  run: () => Promise<number>,
): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < settings.runs; i++) {
    samples.push(await run());
    console.log(`  ${label} run ${i + 1}/${settings.runs}: ${samples.at(-1)!.toFixed(2)}`);
  }
  return samples;
}

/**
 * `settings.runs` rounds, each running every measurement once in the given order: figures
 * compared with each other see the same stretch of a noisy machine.
 */
export async function repeatTogether<K extends string>(
  settings: BenchSettings,
  runs: Readonly<Record<K, () => Promise<number>>>,
): Promise<Record<K, number[]>> {
  const labels = Object.keys(runs) as K[];
  const samples = Object.fromEntries(labels.map((label) => [label, [] as number[]])) as Record<
    K,
    number[]
  >;
  for (let i = 0; i < settings.runs; i++) {
    for (const label of labels) {
      samples[label].push(await runs[label]());
      console.log(`  ${label} run ${i + 1}/${settings.runs}: ${samples[label].at(-1)!.toFixed(2)}`);
    }
  }
  return samples;
}
