/** What the receiver saw of one request and how it answered; served as JSON by `GET /results`. */
export interface ReceivedDelivery {
  receivedAt: string;
  /** `webhook-id`: the event id, the same on every attempt. */
  webhookId: string;
  /** `x-webhook-delivery`: one per event and endpoint. */
  deliveryId: string;
  /** `x-webhook-attempt`, 1-based. */
  attempt: number;
  /** From the body, when it parsed as an event. */
  eventId: string | null;
  eventType: string | null;
  data: unknown;
  /** `x-webhook-signature`, checked as the guide's Python does. */
  guideSignatureOk: boolean;
  /** `webhook-signature`, checked with the `standardwebhooks` package. */
  standardSignatureOk: boolean;
  /** The HTTP status the receiver answered with. */
  status: number;
  /** Why the delivery was refused, if it was. */
  problem: string | null;
}
