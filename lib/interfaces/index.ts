export * from './event-type.interface.js';
export * from './webhook-principal.interface.js';
export * from './webhooks-options.interface.js';
