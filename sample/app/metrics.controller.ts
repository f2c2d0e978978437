import { Controller, Get, Req, Res } from '@nestjs/common';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { prometheus } from './telemetry.js';

/** Prometheus scrapes the module's metrics here (a real app protects it, or serves it on an internal port). */
@Controller()
export class MetricsController {
  @Get('metrics')
  scrape(@Req() request: IncomingMessage, @Res() response: ServerResponse): void {
    prometheus.getMetricsRequestHandler(request, response);
  }
}
