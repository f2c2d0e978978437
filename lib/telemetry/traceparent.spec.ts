import { formatTraceparent, parseTraceparent } from './traceparent';

describe('traceparent', () => {
  const context = { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', traceFlags: 1 };

  it('formats version 00 with two hex digits of flags, and reads it back', () => {
    expect(formatTraceparent(context)).toBe('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01');
    expect(parseTraceparent('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01')).toEqual(context);
    expect(formatTraceparent({ ...context, traceFlags: 0 })).toBe('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00');
  });

  it('refuses invalid contexts: all-zero ids, wrong lengths, upper case, other versions', () => {
    expect(formatTraceparent({ ...context, traceId: '0'.repeat(32) })).toBeNull();
    expect(formatTraceparent({ ...context, spanId: '0'.repeat(16) })).toBeNull();
    expect(formatTraceparent({ ...context, spanId: 'abc' })).toBeNull();
    for (const value of [
      null,
      undefined,
      '',
      '00-00000000000000000000000000000000-00f067aa0ba902b7-01',
      '00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01',
      '00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01',
      '01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
      '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra',
    ]) {
      expect(parseTraceparent(value)).toBeNull();
    }
  });
});
