import { Body, Controller, Delete, HttpCode, Param, Patch, Post, Res, UseGuards } from '@nestjs/common';
import { ApiKeyGuard } from '../auth/api-key.guard.js';
import { CurrentAccount } from '../auth/current-account.decorator.js';
import { CreateUserDto } from './dto/create-user.dto.js';
import { UpdateUserDto } from './dto/update-user.dto.js';
import { toUserView, type UserView } from './user.view.js';
import { UsersService, type UserChange } from './users.service.js';

/** Lets a client match a change it made with the webhook that change triggers. */
export const EVENT_ID_HEADER = 'Webhook-Event-Id';

/** All this controller needs of the platform's response object. */
interface ResponseHeaders {
  setHeader(name: string, value: string): unknown;
}

@Controller('users')
@UseGuards(ApiKeyGuard)
export class UsersController {
  constructor(private readonly users: UsersService) {}

  @Post()
  async create(
    @CurrentAccount() accountId: string,
    @Body() dto: CreateUserDto,
    @Res({ passthrough: true }) res: ResponseHeaders,
  ): Promise<UserView> {
    return answer(await this.users.create(accountId, dto), res);
  }

  @Patch(':id')
  async update(
    @CurrentAccount() accountId: string,
    @Param('id') id: string,
    @Body() dto: UpdateUserDto,
    @Res({ passthrough: true }) res: ResponseHeaders,
  ): Promise<UserView> {
    return answer(await this.users.update(accountId, id, dto), res);
  }

  @Delete(':id')
  @HttpCode(204)
  async remove(
    @CurrentAccount() accountId: string,
    @Param('id') id: string,
    @Res({ passthrough: true }) res: ResponseHeaders,
  ): Promise<void> {
    answer(await this.users.remove(accountId, id), res);
  }
}

function answer({ user, eventId }: UserChange, res: ResponseHeaders): UserView {
  res.setHeader(EVENT_ID_HEADER, eventId);
  return toUserView(user);
}
