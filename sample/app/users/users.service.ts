import { Injectable, NotFoundException } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import type { CreateUserDto } from './dto/create-user.dto.js';
import type { UpdateUserDto } from './dto/update-user.dto.js';
import { UserEventsPublisher } from './user-events.publisher.js';
import { newUserId, User } from './user.entity.js';

/** A change to a user and the id of the webhook event it published. */
export interface UserChange {
  user: User;
  eventId: string;
}

/**
 * Every write publishes its webhook event inside the same transaction as the user row, so the two
 * commit together: a rollback leaves neither, and no receiver hears of a user that was never saved.
 */
@Injectable()
export class UsersService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly events: UserEventsPublisher,
  ) {}

  create(accountId: string, dto: CreateUserDto): Promise<UserChange> {
    return this.dataSource.transaction(async (manager) => {
      const user = manager.create(User, { id: newUserId(), accountId, email: dto.email, name: dto.name ?? null });
      await manager.insert(User, user);
      return { user, eventId: await this.events.publish('user.created', user, manager) };
    });
  }

  update(accountId: string, id: string, dto: UpdateUserDto): Promise<UserChange> {
    return this.dataSource.transaction(async (manager) => {
      const user = await this.findOwned(manager, accountId, id);
      if (dto.email !== undefined) user.email = dto.email;
      if (dto.name !== undefined) user.name = dto.name;
      await manager.update(User, { id: user.id }, { email: user.email, name: user.name });
      return { user, eventId: await this.events.publish('user.updated', user, manager) };
    });
  }

  remove(accountId: string, id: string): Promise<UserChange> {
    return this.dataSource.transaction(async (manager) => {
      const user = await this.findOwned(manager, accountId, id);
      await manager.delete(User, { id: user.id });
      return { user, eventId: await this.events.publish('user.deleted', user, manager) };
    });
  }

  private async findOwned(manager: EntityManager, accountId: string, id: string): Promise<User> {
    const user = await manager.findOneBy(User, { id, accountId });
    if (!user) throw new NotFoundException(`user ${id} not found`);
    return user;
  }
}
