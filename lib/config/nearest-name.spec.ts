import { nearestName } from './nearest-name.js';

describe('nearestName', () => {
  const delivery = ['timeoutMs', 'concurrency', 'perEndpointConcurrency', 'shutdownGraceMs', 'responseBodyLimitBytes'];

  it.each([
    ['timeOutMs', 'timeoutMs'],
    ['timeout', 'timeoutMs'],
    ['concurency', 'concurrency'],
    ['perEndpointConcurency', 'perEndpointConcurrency'],
    ['shutdownGraceMS', 'shutdownGraceMs'],
  ])('suggests %s → %s', (typo, expected) => {
    expect(nearestName(typo, delivery)).toBe(expected);
  });

  it('suggests nothing when no name is close', () => {
    expect(nearestName('workers', delivery)).toBeNull();
    expect(nearestName('x', ['path', 'queueName'])).toBeNull();
  });

  it('allows one edit in short names', () => {
    expect(nearestName('pth', ['path', 'queueName'])).toBe('path');
    expect(nearestName('db', ['path'])).toBeNull();
  });
});
