import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PACKAGE_VERSION, USER_AGENT } from './webhooks.constants.js';

describe('package constants', () => {
  it('keeps the version sent in user-agent in step with package.json', () => {
    const { version } = JSON.parse(readFileSync(join(process.cwd(), 'package.json'), 'utf8'));
    expect(PACKAGE_VERSION).toBe(version);
    expect(USER_AGENT).toBe(`nestjs-webhooks/${version}`);
  });
});
