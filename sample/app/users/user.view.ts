import type { User } from './user.entity.js';

/** A user as the API shows it; the owning account is implied by the API key. */
export interface UserView {
  id: string;
  email: string;
  name: string | null;
}

export function toUserView(user: User): UserView {
  return { id: user.id, email: user.email, name: user.name };
}
