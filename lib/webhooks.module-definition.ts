import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { WebhooksModuleOptions, WebhooksModuleShapeOptions } from './interfaces/webhooks-options.interface.js';

/**
 * `forRoot` / `forRootAsync` as Nest builds them. The options that decide the module's shape (its
 * routes, whether it runs a worker, which data source and queue, whether it is global) are extras:
 * they are read when the module is defined, beside `useFactory` in `forRootAsync`, never from it.
 * What the factory, class or existing provider supplies reaches the module as the raw options,
 * resolved once under `WEBHOOKS_OPTIONS`.
 */
export const {
  ConfigurableModuleClass: ConfigurableWebhooksModule,
  MODULE_OPTIONS_TOKEN: WEBHOOKS_MODULE_OPTIONS,
  OPTIONS_TYPE: WEBHOOKS_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: WEBHOOKS_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<WebhooksModuleOptions>({ optionsInjectionToken: 'nestjs-webhooks:module-options' })
  .setClassMethodName('forRoot')
  .setFactoryMethodName('createWebhooksOptions')
  .setExtras<WebhooksModuleShapeOptions>(
    // Every shape key is listed, so that `forRoot` keeps them all out of the raw options.
    { path: undefined, controllers: undefined, processor: undefined, dataSourceName: undefined, queueName: undefined, isGlobal: undefined },
    (definition) => definition,
  )
  .build();
