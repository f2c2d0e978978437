import { Logger } from '@nestjs/common';
import { EventEmitter } from 'node:events';
import type { ResolvedWebhooksOptions } from '../config/resolved-options.js';
import { WebhooksSetupError } from '../webhooks.errors.js';
import { REDIS_DOWN_REMINDER_MS, RedisConnectionMonitor } from './redis-connection-monitor.js';

const REFUSED = 'connect ECONNREFUSED 10.0.0.7:6380';

/** Stands in for the Bull queue's ioredis client: its status, its options and the events it emits. */
class ClientEvents extends EventEmitter {
  status = 'connecting';
  readonly options = { host: 'redis.internal', port: 6380, password: 'hunter2' };

  refuse(): void {
    this.status = 'reconnecting';
    this.emit('error', new Error(REFUSED));
    this.emit('close');
    this.emit('reconnecting', 50);
  }

  accept(): void {
    this.status = 'ready';
    this.emit('connect');
    this.emit('ready');
  }
}

function monitorOf(client: ClientEvents, requiredAtBoot = false): RedisConnectionMonitor {
  return new RedisConnectionMonitor({ client } as never, { redis: { requiredAtBoot } } as ResolvedWebhooksOptions);
}

describe('RedisConnectionMonitor', () => {
  let warn: jest.SpyInstance;
  let log: jest.SpyInstance;

  beforeEach(() => {
    jest.useFakeTimers();
    warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    log = jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
  });

  afterEach(() => {
    jest.useRealTimers();
    jest.restoreAllMocks();
  });

  it('warns once when Redis cannot be reached, however often the client retries, then every 30 s', () => {
    const client = new ClientEvents();
    const monitor = monitorOf(client);
    expect(monitor.state).toBe('connecting');
    for (let i = 0; i < 10; i++) client.refuse();

    expect(monitor.isDown).toBe(true);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn.mock.calls[0][0]).toContain(`Redis at redis.internal:6380 is unreachable (${REFUSED})`);
    jest.advanceTimersByTime(REDIS_DOWN_REMINDER_MS);
    expect(warn).toHaveBeenCalledTimes(2);
    expect(warn.mock.calls[1][0]).toBe(`Redis at redis.internal:6380 is still unreachable after 30 s (${REFUSED}).`);
    jest.advanceTimersByTime(REDIS_DOWN_REMINDER_MS);
    expect(warn).toHaveBeenCalledTimes(3);
    expect(warn.mock.calls.flat().join(' ')).not.toContain('hunter2');
    monitor.beforeApplicationShutdown();
  });

  it('says when Redis is back, stops reminding, and tells whoever waits for it', async () => {
    const client = new ClientEvents();
    const monitor = monitorOf(client);
    const back = jest.fn();
    monitor.onUp(back);
    const whenUp = monitor.whenUp();
    client.refuse();
    jest.advanceTimersByTime(5_000);

    client.accept();
    await expect(whenUp).resolves.toBeUndefined();
    expect(monitor.isUp).toBe(true);
    expect(back).toHaveBeenCalledTimes(1);
    expect(log).toHaveBeenCalledWith('Redis at redis.internal:6380 is reachable again after 5 s.');
    jest.advanceTimersByTime(10 * REDIS_DOWN_REMINDER_MS);
    expect(warn).toHaveBeenCalledTimes(1);

    client.refuse();
    client.accept();
    expect(back).toHaveBeenCalledTimes(2);
    expect(warn).toHaveBeenCalledTimes(2);
    monitor.beforeApplicationShutdown();
  });

  it('does not report the connection its own app closes on shutdown', () => {
    const client = new ClientEvents();
    const monitor = monitorOf(client);
    client.accept();
    monitor.beforeApplicationShutdown();
    client.status = 'end';
    client.emit('close');
    client.emit('end');
    expect(warn).not.toHaveBeenCalled();
  });

  it('with redis.requiredAtBoot, fails the boot when the first attempt fails, naming the address', async () => {
    const client = new ClientEvents();
    const init = monitorOf(client, true).onModuleInit();
    client.refuse();
    await expect(init).rejects.toThrow(WebhooksSetupError);
    await expect(init).rejects.toThrow(`Redis at redis.internal:6380 is unreachable (${REFUSED}) and redis.requiredAtBoot is on`);
  });

  it('with redis.requiredAtBoot, boots once the first attempt succeeds', async () => {
    const client = new ClientEvents();
    const monitor = monitorOf(client, true);
    const init = monitor.onModuleInit();
    client.accept();
    await expect(init).resolves.toBeUndefined();
    monitor.beforeApplicationShutdown();
  });

  describe('command', () => {
    it('sends nothing while Redis is known to be down', async () => {
      const client = new ClientEvents();
      const monitor = monitorOf(client);
      client.refuse();
      const send = jest.fn(async () => 'OK');
      await expect(monitor.command(send, 1_000)).rejects.toThrow(`Redis at redis.internal:6380 is unreachable (${REFUSED})`);
      expect(send).not.toHaveBeenCalled();
      monitor.beforeApplicationShutdown();
    });

    it('gives up on a command in flight as soon as Redis goes down, or when the app stops', async () => {
      const client = new ClientEvents();
      const monitor = monitorOf(client);
      client.accept();
      const inFlight = monitor.command(() => new Promise(() => undefined), 60_000);
      client.refuse();
      await expect(inFlight).rejects.toThrow('is unreachable');

      client.accept();
      const atShutdown = monitor.command(() => new Promise(() => undefined), 60_000);
      monitor.beforeApplicationShutdown();
      await expect(atShutdown).rejects.toThrow('the app is stopping');
    });

    it('still sends commands while the app stops, for the hand-back and the locks, until the connection closes', async () => {
      const client = new ClientEvents();
      const monitor = monitorOf(client);
      client.accept();
      monitor.beforeApplicationShutdown();
      const send = jest.fn(async () => 'OK');
      await expect(monitor.command(send, 1_000)).resolves.toBe('OK');
      monitor.onApplicationShutdown();
      await expect(monitor.command(send, 1_000)).rejects.toThrow('the app is stopping');
      expect(send).toHaveBeenCalledTimes(1);
    });

    it('gives up on a command Redis does not answer in time, and passes answers through', async () => {
      const client = new ClientEvents();
      const monitor = monitorOf(client);
      client.accept();
      await expect(monitor.command(async () => 'OK', 1_000)).resolves.toBe('OK');
      const late = monitor.command(() => new Promise(() => undefined), 1_000);
      jest.advanceTimersByTime(1_000);
      await expect(late).rejects.toThrow('Redis at redis.internal:6380 did not answer within 1000 ms');
      monitor.beforeApplicationShutdown();
    });
  });
});
