import { context, metrics, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { AggregationTemporality, MeterProvider, PeriodicExportingMetricReader, type PushMetricExporter } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, BatchSpanProcessor, type SpanExporter } from '@opentelemetry/sdk-trace-base';

/** Takes every batch and drops it: the SDK's recording and batching are measured, not a collector's network. */
class DiscardingExporter implements PushMetricExporter, SpanExporter {
  export(_batch: unknown, done: (result: ExportResult) => void): void {
    done({ code: ExportResultCode.SUCCESS });
  }
  selectAggregationTemporality(): AggregationTemporality {
    return AggregationTemporality.CUMULATIVE;
  }
  async forceFlush(): Promise<void> {}
  async shutdown(): Promise<void> {}
}

/**
 * `context`: only the context manager an SDK installs (AsyncLocalStorage), so the module's instruments
 * stay the API's no-ops. `full`: what a host with OpenTelemetry set up runs besides, a MeterProvider
 * exporting every second and a tracer provider sampling every span, registered before the app boots.
 */
export type TelemetrySetup = 'context' | 'full';

export function installTelemetrySdk(setup: TelemetrySetup): void {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  if (setup === 'context') return;
  const exporter = new DiscardingExporter();
  metrics.setGlobalMeterProvider(
    new MeterProvider({ readers: [new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 1_000 })] }),
  );
  trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new BatchSpanProcessor(exporter)] }));
}
