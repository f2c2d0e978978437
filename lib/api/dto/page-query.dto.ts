import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import { DELIVERY_STATUSES, type DeliveryStatus } from '../../store/entities/delivery-status.js';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from '../../store/pagination.js';
import { DocProperty } from '../openapi/openapi-metadata.js';

export class PageQueryDto {
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(MAX_PAGE_SIZE)
  @DocProperty({
    type: 'integer',
    required: false,
    minimum: 1,
    maximum: MAX_PAGE_SIZE,
    default: DEFAULT_PAGE_SIZE,
    description: 'Page size.',
  })
  limit?: number;

  @IsOptional()
  @IsString()
  @MaxLength(64)
  @DocProperty({ type: 'string', required: false, maxLength: 64, description: 'The `next_cursor` of the previous page.' })
  cursor?: string;
}

export class DeliveryPageQueryDto extends PageQueryDto {
  @IsOptional()
  @IsIn(DELIVERY_STATUSES)
  @DocProperty({ type: 'string', required: false, enum: DELIVERY_STATUSES, description: 'Only deliveries in this status.' })
  status?: DeliveryStatus;
}
