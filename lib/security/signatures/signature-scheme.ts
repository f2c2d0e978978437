/** What a signature covers: one attempt of one delivery. */
export interface SignedMessage {
  /** The event id, stable across attempts (`webhook-id`). */
  id: string;
  /** Unix seconds of this attempt. */
  timestamp: number;
  /** The body exactly as sent. */
  body: string;
}

/**
 * A way of signing deliveries: the headers it adds, from the endpoint's live secrets (newest first,
 * never empty). A new scheme is one file implementing this, listed in `WebhookSigner`.
 */
export interface SignatureScheme {
  headers(message: SignedMessage, secrets: readonly string[]): Record<string, string>;
}
