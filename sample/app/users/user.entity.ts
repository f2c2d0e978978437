import { randomBytes } from 'node:crypto';
import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

@Entity('users')
export class User {
  @PrimaryColumn({ type: 'varchar', length: 32 })
  id!: string;

  @Index()
  @Column({ name: 'account_id', type: 'varchar', length: 64 })
  accountId!: string;

  @Column({ type: 'varchar', length: 320 })
  email!: string;

  @Column({ type: 'varchar', length: 200, nullable: true })
  name!: string | null;
}

/** `usr_` ids, in the style of the guide's example payload. */
export function newUserId(): string {
  return `usr_${randomBytes(8).toString('hex')}`;
}
