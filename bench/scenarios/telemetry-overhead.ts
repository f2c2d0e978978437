import type { ScenarioContext } from './common.js';
import { measureDeliveryThroughput } from './delivery-throughput.js';

/** Runs per arm, interleaved (off, on, on, off) so that a drift of the host over the scenario cancels out. */
const ORDER = [false, true, true, false];

/**
 * P1's deployment (an emitter and one worker) with and without an OpenTelemetry SDK recording every
 * metric and every span. Without the SDK, `@opentelemetry/api` is still installed, so the module's
 * instruments are the API's no-ops; the figure is the cost of the SDK's recording and batching.
 */
export async function telemetryOverheadScenario(context: ScenarioContext) {
  const rates = { off: [] as number[], on: [] as number[] };
  const cpu = { off: [] as number[], on: [] as number[] };
  for (const [index, telemetry] of ORDER.entries()) {
    const m = await measureDeliveryThroughput(context, `P10${telemetry ? 'ON' : 'OFF'}${index}`, { workers: 1, telemetry });
    rates[telemetry ? 'on' : 'off'].push(m.rate);
    const byRole = (m.details.cpuMicrosPerDelivery as Record<string, number> | null) ?? {};
    cpu[telemetry ? 'on' : 'off'].push((byRole.worker ?? NaN) + (byRole.emitter ?? NaN));
  }
  const mean = (values: number[]) => values.reduce((sum, v) => sum + v, 0) / values.length;
  const ratio = mean(rates.on) / mean(rates.off);
  return {
    id: 'P10',
    title: 'instrumentation overhead',
    figures: [
      {
        id: 'P10',
        label: 'P1 with an OpenTelemetry SDK ÷ without',
        value: ratio,
        unit: '×',
        target: { op: '>=' as const, value: 0.97 },
        note: `mean of ${rates.on.length} runs each, interleaved`,
      },
      { id: 'P10', label: '  emitter + worker CPU per delivery, with ÷ without (info)', value: mean(cpu.on) / mean(cpu.off), unit: '×' },
    ],
    details: { rates, cpuMicrosPerDelivery: cpu, order: ORDER },
  };
}
