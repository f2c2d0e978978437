/** Base class of every error this package throws on purpose; `code` is stable, `message` says what to fix. */
export class WebhookError extends Error {
  constructor(
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A `WebhooksModule` (or `WebhooksTestingModule`) option is missing or wrong; thrown while the app boots. */
export class WebhooksOptionsError extends WebhookError {
  constructor(message: string, moduleName = 'WebhooksModule') {
    super('invalid_options', `${moduleName}: ${message}`);
  }
}

/**
 * The host app lacks something the module needs from it, such as a TypeORM data source, or Redis at
 * boot when `redis.requiredAtBoot` is on; thrown while the app boots.
 */
export class WebhooksSetupError extends WebhookError {
  constructor(message: string) {
    super('invalid_setup', `WebhooksModule: ${message}`);
  }
}

export class UnknownEventTypeError extends WebhookError {
  constructor(readonly eventType: string) {
    super('unknown_event_type', `Unknown event type "${eventType}": add it to WebhooksModule eventTypes or fix the name.`);
  }
}

export class InvalidEventTypeError extends WebhookError {
  constructor(readonly eventType: unknown) {
    super(
      'invalid_event_type',
      `Invalid event type ${JSON.stringify(eventType)}: use dot-separated names of letters, digits, "_" and "-", such as "user.created".`,
    );
  }
}

export class ReservedEventTypeError extends WebhookError {
  constructor(readonly eventType: string) {
    super('reserved_event_type', `Event type "${eventType}" is reserved: names under "webhook." are the module's own operational events.`);
  }
}

export class InvalidPayloadError extends WebhookError {
  constructor(reason: string) {
    super('invalid_payload', `Webhook data is not JSON: ${reason}`);
  }
}

/**
 * The serialized event is over the cap. `bytes` is its size, or, when serializing stopped early
 * (`stoppedEarly`), how many bytes it had reached by then.
 */
export class PayloadTooLargeError extends WebhookError {
  constructor(
    readonly bytes: number,
    readonly limit: number,
    readonly stoppedEarly = false,
  ) {
    const size = stoppedEarly ? `at least ${bytes} bytes serialized (serializing stopped early)` : `${bytes} bytes serialized`;
    super(
      'payload_too_large',
      `Webhook event is ${size}; the limit is ${limit} (maxPayloadBytes). ` +
        'Make data smaller (send ids and let receivers fetch the rest) or raise maxPayloadBytes.',
    );
  }
}

export class InvalidEmitOptionsError extends WebhookError {
  constructor(message: string) {
    super('invalid_emit_options', message);
  }
}

/** The database refused or could not take the event; nothing was written and nothing was queued. */
export class EmitFailedError extends WebhookError {
  constructor(cause: unknown) {
    super('emit_failed', `Webhook event was not stored: ${(cause as Error)?.message ?? String(cause)}`, { cause });
  }
}

/** Input to the management API or service was refused; `problems` names each one. */
export class WebhookValidationError extends WebhookError {
  constructor(readonly problems: string[]) {
    super('validation_failed', problems.join('; '));
  }
}

/** No such webhook or delivery for this owner (another owner's id is reported the same way). */
export class WebhookNotFoundError extends WebhookError {
  constructor(what: 'webhook' | 'delivery') {
    super('not_found', `${what} not found`);
  }
}

/** The request is valid but conflicts with the current state, e.g. retrying a pending delivery. */
export class WebhookConflictError extends WebhookError {
  constructor(message: string) {
    super('conflict', message);
  }
}
