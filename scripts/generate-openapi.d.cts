/** Types of generate-openapi.cjs, for the test that compares openapi.json with the code. */
export declare function buildOpenApiDocument(lib: { WebhooksModule: unknown }): Promise<Record<string, any>>;
export declare function serialize(document: unknown): string;
