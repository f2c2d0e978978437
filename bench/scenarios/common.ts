import type { Figure, ScenarioResult } from '../report.js';
import { wallNow } from '../support/clock.js';
import type { Receiver } from '../support/stack.js';

export interface ScenarioContext {
  receiver: Receiver;
  /** L from this run, in deliveries/s; set once L has been measured. */
  limit?: number;
  /** Earlier results of this run, by scenario id (P7 compares itself with P1). */
  results: Map<string, ScenarioResult>;
}

export type Scenario = (context: ScenarioContext) => Promise<Omit<ScenarioResult, 'seconds'>>;

/** `count` receiver paths `/<kind>/<group>/<n>`. */
export function paths(group: string, count: number, kind: 'ok' | 'hole' = 'ok'): string[] {
  return Array.from({ length: count }, (_, i) => `/${kind}/${group}/${i}`);
}

export function perSecond(count: number, fromMs: number, toMs: number): number {
  return count / ((toMs - fromMs) / 1_000);
}

/** A delivery rate as a table figure, with its ratio to L when L is known. */
export function rateFigure(context: ScenarioContext, figure: Omit<Figure, 'ratioToL' | 'unit'>): Figure {
  return { ...figure, unit: 'deliveries/s', ...(context.limit ? { ratioToL: figure.value / context.limit } : {}) };
}

export async function timed(scenario: Scenario, context: ScenarioContext): Promise<ScenarioResult> {
  const started = wallNow();
  const result = await scenario(context);
  return { ...result, seconds: (wallNow() - started) / 1_000 };
}
