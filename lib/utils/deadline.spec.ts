import { withinDeadline } from './deadline.js';

describe('withinDeadline', () => {
  it('settles with the work when it is in time', async () => {
    await expect(withinDeadline(Promise.resolve('done'), 1_000, 'late')).resolves.toBe('done');
  });

  it('settles with the fallback when the work is late', async () => {
    await expect(withinDeadline(new Promise(() => undefined), 20, 'late')).resolves.toBe('late');
  });

  it('passes a rejection through', async () => {
    await expect(withinDeadline(Promise.reject(new Error('boom')), 1_000, 'late')).rejects.toThrow('boom');
  });
});
