import { describeRedisAddress } from './redis-address.js';

describe('describeRedisAddress', () => {
  it('names host and port, never the credentials', () => {
    const options = { host: 'redis.internal', port: 6380, username: 'app', password: 's3cret' };
    expect(describeRedisAddress(options)).toBe('redis.internal:6380');
  });

  it('fills in the defaults ioredis uses', () => {
    expect(describeRedisAddress({})).toBe('localhost:6379');
  });

  it('brackets IPv6 hosts and names a database other than 0', () => {
    expect(describeRedisAddress({ host: '::1', port: 6379, db: 3 })).toBe('[::1]:6379 (db 3)');
  });

  it('names a unix socket', () => {
    expect(describeRedisAddress({ path: '/run/redis.sock', host: 'localhost', port: 6379 })).toBe('unix:/run/redis.sock');
  });

  it('names a sentinel group by its sentinels', () => {
    const options = { name: 'queues', sentinels: [{ host: '10.0.0.1', port: 26379 }, { host: '10.0.0.2' }], sentinelPassword: 'x' };
    expect(describeRedisAddress(options)).toBe('sentinel group "queues" via 10.0.0.1:26379, 10.0.0.2:26379');
  });
});
