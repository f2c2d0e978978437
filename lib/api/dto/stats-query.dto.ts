import { IsOptional, IsString, MaxLength } from 'class-validator';
import { DEFAULT_STATS_WINDOW } from '../../management/webhook-stats.service.js';
import { DocProperty } from '../openapi/openapi-metadata.js';

export class StatsQueryDto {
  // Its content (a number and a unit, at most 30 days) is checked by WebhookStatsService.
  @IsOptional()
  @IsString()
  @MaxLength(8)
  @DocProperty({
    type: 'string',
    required: false,
    pattern: '^[1-9][0-9]{0,4}[mhd]$',
    default: DEFAULT_STATS_WINDOW,
    description: 'How far back: a number and a unit (m, h or d), from 1m to 30d.',
    example: '24h',
  })
  window?: string;
}
