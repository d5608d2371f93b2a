/** Reading a service's prom-client registry in-process, for assertions on what it counted. */
import type { createMetrics } from "@riskinmind/runtime";

/** The value of a counter/gauge in a registry (summed over label sets matching `labels`). */
export async function metricValue(metrics: ReturnType<typeof createMetrics>, name: string, labels: Record<string, string> = {}): Promise<number> {
  const metric = metrics.registry.getSingleMetric(name);
  if (!metric) return 0;
  const data = await metric.get();
  return data.values
    .filter((v) => Object.entries(labels).every(([k, val]) => (v.labels as Record<string, unknown>)[k] === val))
    .filter((v) => !("metricName" in v) || v.metricName === name)
    .reduce((s, v) => s + v.value, 0);
}
