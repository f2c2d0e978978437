import { Global, Module, type DynamicModule } from '@nestjs/common';
import { ApiKeyGuard } from './api-key.guard.js';
import { ApiKeys } from './api-keys.js';

/** Makes the app's one `ApiKeys` instance injectable everywhere, for `ApiKeyGuard`. */
@Global()
@Module({})
export class AuthModule {
  static forRoot(apiKeys: ApiKeys): DynamicModule {
    return {
      module: AuthModule,
      providers: [{ provide: ApiKeys, useValue: apiKeys }, ApiKeyGuard],
      exports: [ApiKeys, ApiKeyGuard],
    };
  }
}
