import './telemetry.js'; // first: the module takes its meter when the app boots
import { ValidationPipe, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { AppConfig } from './app.config.js';
import { AppModule } from './app.module.js';

export interface RunningApp {
  app: INestApplication;
  /** Base URL, e.g. `http://127.0.0.1:41234`. */
  url: string;
}

/** Boots the sample app on a free port of 127.0.0.1. */
export async function startApp(config: AppConfig): Promise<RunningApp> {
  const app = await NestFactory.create(AppModule.forRoot(config), { logger: ['error', 'warn'] });
  app.useGlobalPipes(new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true }));
  await app.listen(0, '127.0.0.1');
  return { app, url: await app.getUrl() };
}
