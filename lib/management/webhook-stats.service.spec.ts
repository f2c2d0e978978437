import { parseStatsWindow } from './webhook-stats.service.js';
import { WebhookValidationError } from '../webhooks.errors.js';

describe('parseStatsWindow', () => {
  it('reads minutes, hours and days up to 30 days', () => {
    expect(parseStatsWindow('1m')).toBe(60_000);
    expect(parseStatsWindow('1h')).toBe(3_600_000);
    expect(parseStatsWindow('24h')).toBe(86_400_000);
    expect(parseStatsWindow('7d')).toBe(7 * 86_400_000);
    expect(parseStatsWindow('720h')).toBe(30 * 86_400_000);
  });

  it('refuses anything else', () => {
    for (const bad of ['', '0h', '1', 'h', '1w', '1.5h', '-1h', '31d', '721h', ' 1h', '1h ', '01h', '99999d']) {
      expect(() => parseStatsWindow(bad)).toThrow(WebhookValidationError);
    }
  });
});
