import { join } from 'node:path';
import { config, selected } from './config.js';
import { applyLimit, printHostLoad, printTable, writeResults, type ScenarioResult } from './report.js';
import { limitScenario } from './scenarios/limit.js';
import { p1, p7 } from './scenarios/delivery-throughput.js';
import { latencyScenario } from './scenarios/latency.js';
import { emitScenario } from './scenarios/emit.js';
import { fanOutScenario } from './scenarios/fan-out.js';
import { isolationScenario } from './scenarios/isolation.js';
import { memoryScenario } from './scenarios/memory.js';
import { flakyEndpointsScenario } from './scenarios/flaky-endpoints.js';
import { noisyNeighbourScenario } from './scenarios/noisy-neighbour.js';
import { telemetryOverheadScenario } from './scenarios/telemetry-overhead.js';
import { timed, type Scenario, type ScenarioContext } from './scenarios/common.js';
import { runProfile } from './profile.js';
import { wallNow } from './support/clock.js';
import { cpuShare, cpuSnapshot, waitForQuietHost } from './support/host-load.js';
import { Child, killAllChildren } from './support/ipc.js';
import { closeAdmin, closeRedis, machineInfo, removeLeftovers } from './support/infra.js';
import type { Receiver } from './support/stack.js';

const RECEIVER_SCRIPT = join(__dirname, 'receiver.js');
const RESULTS = join(__dirname, '..', 'results', 'latest.json');

/** In run order: L first and again last (ratios use the better of the two), P7 right after P1 (its baseline). */
const SCENARIOS: Array<{ id: string; title: string; run: Scenario; needsLimit: boolean }> = [
  { id: 'L', title: 'limit', run: limitScenario('L'), needsLimit: false },
  { id: 'P1', title: 'delivery throughput', run: p1, needsLimit: true },
  { id: 'P7', title: 'scale-out', run: p7, needsLimit: true },
  { id: 'P2', title: 'latency', run: latencyScenario, needsLimit: false },
  { id: 'P3', title: 'emit throughput', run: emitScenario, needsLimit: false },
  { id: 'P4', title: 'fan-out', run: fanOutScenario, needsLimit: true },
  { id: 'P5', title: 'isolation', run: isolationScenario, needsLimit: true },
  { id: 'P6', title: 'memory', run: memoryScenario, needsLimit: true },
  { id: 'P8', title: 'flaky endpoints', run: flakyEndpointsScenario, needsLimit: false },
  { id: 'P9', title: 'noisy neighbour', run: noisyNeighbourScenario, needsLimit: false },
  { id: 'P10', title: 'instrumentation overhead', run: telemetryOverheadScenario, needsLimit: false },
  { id: 'L2', title: 'limit again', run: limitScenario('L2'), needsLimit: false },
];

/** Longest wait for other processes to calm down before one scenario, and over the whole run. */
const QUIET_WAIT_MS = 5_000;
const QUIET_WAIT_TOTAL_MS = 20_000;

async function main(): Promise<void> {
  const started = wallNow();
  const machine = await machineInfo();
  console.log(
    `nestjs-webhooks bench @ ${machine.commit}: ${machine.cpuModel} × ${machine.cores}, Node ${machine.node}, ` +
      `PostgreSQL ${machine.postgres}, Redis ${machine.redis}, scale ${config.scale}, ` +
      `concurrency ${config.concurrency}, body ${config.bodyBytes} B`,
  );
  const receiver = await Child.start<Receiver['ready']>(RECEIVER_SCRIPT, { name: 'receiver' });
  const context: ScenarioContext = { receiver, results: new Map() };
  const wanted = SCENARIOS.filter((s) => selected(s.id));
  const needsLimit = wanted.some((s) => s.needsLimit);
  const plan = SCENARIOS.filter((s) => wanted.includes(s) || (needsLimit && (s.id === 'L' || s.id === 'L2')));
  const results: ScenarioResult[] = [];
  let quietBudget = QUIET_WAIT_TOTAL_MS;
  try {
    for (const scenario of plan) {
      await receiver.request('reset');
      const quiet = await waitForQuietHost(Math.min(QUIET_WAIT_MS, quietBudget));
      quietBudget -= quiet.waitedMs;
      const before = cpuSnapshot();
      const scenarioStart = wallNow();
      let result: ScenarioResult;
      try {
        result = await timed(scenario.run, context);
      } catch (error) {
        result = {
          id: scenario.id,
          title: scenario.title,
          seconds: (wallNow() - scenarioStart) / 1_000,
          figures: [],
          details: {},
          error: (error as Error).stack ?? String(error),
        };
        console.error(`${scenario.id} failed: ${(error as Error).message}`);
      }
      result.host = { quietWaitMs: Math.round(quiet.waitedMs), cpu: cpuShare(before, cpuSnapshot()) };
      context.results.set(result.id, result);
      results.push(result);
      console.log(`  ${result.id} ${result.title}: ${result.error ? 'ERROR' : 'done'} in ${result.seconds.toFixed(1)} s`);
    }
  } finally {
    await receiver.stop();
  }
  const elapsedSeconds = (wallNow() - started) / 1_000;
  const limit = applyLimit(results);
  console.log('');
  const table = printTable(results);
  if (limit)
    console.log(
      `× L: divided by ${limit.from} = ${Math.round(limit.limit).toLocaleString('en-US')} deliveries/s, ` +
        "the better of this run's two L measurements",
    );
  console.log('');
  const hostLoad = printHostLoad(results);
  console.log(
    `\nelapsed ${elapsedSeconds.toFixed(1)} s${elapsedSeconds > 300 ? ' (over the 5-minute budget)' : ''}; ` +
      'results in bench/results/latest.json',
  );
  writeResults(RESULTS, { machine, config, elapsedSeconds, limit, results, table: `${table}\n\n${hostLoad}` });
  if (results.some((r) => r.error)) process.exitCode = 1;
}

async function shutdown(): Promise<void> {
  await removeLeftovers();
  closeRedis();
  await closeAdmin();
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    killAllChildren();
    void shutdown().finally(() => process.exit(130));
  });
}

const entry = process.argv.includes('--profile') ? runProfile : main;
entry()
  .catch((error) => {
    console.error(error);
    process.exitCode = 1;
  })
  .finally(async () => {
    killAllChildren();
    await shutdown();
  });
