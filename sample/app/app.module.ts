import { BullModule } from '@nestjs/bull';
import { Module, type DynamicModule } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { WebhooksModule } from 'nestjs-webhooks';
import type { AppConfig } from './app.config.js';
import { ApiKeys } from './auth/api-keys.js';
import { AuthModule } from './auth/auth.module.js';
import { MetricsController } from './metrics.controller.js';
import { UsersModule } from './users/users.module.js';
import { webhooksOptions } from './webhooks.options.js';

@Module({})
export class AppModule {
  static forRoot(config: AppConfig): DynamicModule {
    const apiKeys = new ApiKeys(config.apiKeys);
    return {
      module: AppModule,
      controllers: [MetricsController],
      imports: [
        TypeOrmModule.forRoot({ type: 'better-sqlite3', database: config.databasePath, autoLoadEntities: true, synchronize: true }),
        BullModule.forRoot({ redis: config.redisUrl }),
        AuthModule.forRoot(apiKeys),
        WebhooksModule.forRoot(webhooksOptions(apiKeys, config.webhookQueue)),
        UsersModule,
      ],
    };
  }
}
