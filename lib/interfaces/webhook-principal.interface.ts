/** What `authenticate(req)` returns for a caller of the management API. */
export interface WebhookPrincipal {
  ownerId: string;
  /** When present, reads need `webhooks:read` and writes need `webhooks:write`. */
  permissions?: string[];
}
