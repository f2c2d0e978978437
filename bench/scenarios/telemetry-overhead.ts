import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import type { TelemetrySetup } from '../support/telemetry-sdk.js';
import type { ScenarioContext } from './common.js';
import { measureDeliveryThroughput } from './delivery-throughput.js';

type Arm = 'none' | TelemetrySetup;

const COST_SCRIPT = join(__dirname, '..', 'telemetry-cost.js');

/** CPU µs per delivery of the instrumentation calls alone, measured in a quiet process of its own (see telemetry-cost.ts). */
function instrumentationMicros(setup: 'none' | 'full'): number {
  const output = execFileSync(process.execPath, [COST_SCRIPT, setup], { encoding: 'utf8' });
  return (JSON.parse(output.trim().split('\n').pop()!) as { microsPerDelivery: number }).microsPerDelivery;
}

/** Runs per arm, mirrored so that a drift of the host over the scenario cancels out. */
const ORDER: Arm[] = ['none', 'context', 'full', 'full', 'context', 'none'];

/**
 * P1's deployment (an emitter and one worker) three ways: no OpenTelemetry SDK (`@opentelemetry/api`
 * is installed, so the module's instruments are the API's no-ops); only the SDK's context manager;
 * the whole SDK recording every metric and every span. Full ÷ context is what the module's own
 * metrics and spans cost a host that has OpenTelemetry set up; context ÷ none is what context
 * propagation (AsyncLocalStorage) costs any process that installs an SDK.
 */
export async function telemetryOverheadScenario(context: ScenarioContext) {
  const rates: Record<Arm, number[]> = { none: [], context: [], full: [] };
  const cpu: Record<Arm, number[]> = { none: [], context: [], full: [] };
  for (const [index, arm] of ORDER.entries()) {
    const m = await measureDeliveryThroughput(context, `P10${arm.toUpperCase()}${index}`, {
      workers: 1,
      telemetry: arm === 'none' ? undefined : arm,
    });
    rates[arm].push(m.rate);
    const byRole = (m.details.cpuMicrosPerDelivery as Record<string, number> | null) ?? {};
    cpu[arm].push((byRole.worker ?? NaN) + (byRole.emitter ?? NaN));
  }
  const mean = (values: number[]) => values.reduce((sum, v) => sum + v, 0) / values.length;
  const cost = { none: [] as number[], full: [] as number[] };
  for (const setup of ['none', 'full', 'none', 'full'] as const) cost[setup].push(instrumentationMicros(setup));
  const addedMicros = mean(cost.full) - mean(cost.none);
  const pipelineMicros = mean(cpu.none);
  return {
    id: 'P10',
    title: 'instrumentation overhead',
    figures: [
      {
        id: 'P10',
        label: "instrumentation CPU per delivery with the SDK recording ÷ P1's emitter + worker CPU per delivery",
        value: (100 * addedMicros) / pipelineMicros,
        unit: '%',
        target: { op: '<=' as const, value: 3 },
        note: `${addedMicros.toFixed(1)} µs of ${pipelineMicros.toFixed(0)} µs`,
      },
      {
        id: 'P10',
        label: "  P1 with the module's metrics and spans recorded ÷ SDK context only (info)",
        value: mean(rates.full) / mean(rates.context),
        unit: '×',
        note: `mean of ${rates.full.length} runs each, mirrored order; run-to-run noise on this host is larger than the effect`,
      },
      {
        id: 'P10',
        label: '  emitter + worker CPU per delivery, recorded ÷ context only (info)',
        value: mean(cpu.full) / mean(cpu.context),
        unit: '×',
      },
      { id: 'P10', label: '  P1 with the SDK context manager ÷ no SDK (info)', value: mean(rates.context) / mean(rates.none), unit: '×' },
      { id: 'P10', label: '  P1 with the whole SDK ÷ no SDK (info)', value: mean(rates.full) / mean(rates.none), unit: '×' },
    ],
    details: { rates, emitterAndWorkerMicrosPerDelivery: cpu, order: ORDER, instrumentationMicrosPerDelivery: cost },
  };
}
