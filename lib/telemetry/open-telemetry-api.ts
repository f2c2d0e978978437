import type * as OpenTelemetryApi from '@opentelemetry/api';

export type OpenTelemetry = typeof OpenTelemetryApi;

/**
 * `@opentelemetry/api`, when the host has it: an optional peer dependency, so it is imported on
 * demand, once, at boot. A dynamic import works in both builds (the CommonJS one turns it into a
 * `require`) and needs no top-level await.
 */
export async function loadOpenTelemetry(): Promise<OpenTelemetry | null> {
  try {
    return await import('@opentelemetry/api');
  } catch {
    return null;
  }
}
