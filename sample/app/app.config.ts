/** What the sample app needs from its environment; `run.ts` fills it in for each run. */
export interface AppConfig {
  /** SQLite file (or `:memory:`) holding users and the webhook tables. */
  databasePath: string;
  redisUrl: string;
  /** Bull queue for webhook deliveries; each app sharing a Redis needs its own. */
  webhookQueue: string;
  /** API key → account id. */
  apiKeys: ReadonlyMap<string, string>;
}
