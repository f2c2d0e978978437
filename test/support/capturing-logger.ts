import type { LoggerService } from '@nestjs/common';

export interface LogLine {
  level: 'log' | 'warn' | 'error' | 'debug' | 'verbose' | 'fatal';
  context: string | undefined;
  message: string;
}

/** A Nest logger that keeps every line, so a test can assert on what an operator would read. */
export class CapturingLogger implements LoggerService {
  readonly lines: LogLine[] = [];

  log(message: unknown, context?: string): void {
    this.push('log', message, context);
  }

  warn(message: unknown, context?: string): void {
    this.push('warn', message, context);
  }

  error(message: unknown, ...rest: unknown[]): void {
    this.push('error', message, rest.at(-1) as string | undefined);
  }

  debug(message: unknown, context?: string): void {
    this.push('debug', message, context);
  }

  verbose(message: unknown, context?: string): void {
    this.push('verbose', message, context);
  }

  fatal(message: unknown, context?: string): void {
    this.push('fatal', message, context);
  }

  /** Lines of `level` from `context` whose message contains `text`. */
  find(level: LogLine['level'], context: string, text = ''): LogLine[] {
    return this.lines.filter((line) => line.level === level && line.context === context && line.message.includes(text));
  }

  private push(level: LogLine['level'], message: unknown, context: string | undefined): void {
    this.lines.push({ level, context, message: message instanceof Error ? message.message : String(message) });
    if (process.env.TEST_LOGS) console.log(`[${level}] [${context}] ${String(message)}`);
  }
}
