import { DELIVERY_RATE, type Figure, type ScenarioResult } from '../report.js';
import { wallNow } from '../support/clock.js';
import type { Receiver } from '../support/stack.js';

export interface ScenarioContext {
  receiver: Receiver;
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

/** A delivery rate as a table figure; its ratio to L is filled in once the run is over (see `applyLimit`). */
export function rateFigure(figure: Omit<Figure, 'ratioToL' | 'unit'>): Figure {
  return { ...figure, unit: DELIVERY_RATE };
}

export async function timed(scenario: Scenario, context: ScenarioContext): Promise<ScenarioResult> {
  const started = wallNow();
  const result = await scenario(context);
  return { ...result, seconds: (wallNow() - started) / 1_000 };
}
