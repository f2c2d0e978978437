import { UnsupportedMediaTypeException, type CanActivate, type ExecutionContext } from '@nestjs/common';

const JSON_MEDIA_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i;

/**
 * The API speaks JSON only. Without this, a form-encoded body parsed by the host's urlencoded parser
 * would be validated and applied as if it were JSON; any request that carries a body must say JSON.
 */
export class WebhooksJsonBodyGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest();
    const headers = request.headers ?? {};
    const hasBody = Number(headers['content-length'] ?? 0) > 0 || headers['transfer-encoding'] !== undefined;
    if (hasBody && !JSON_MEDIA_TYPE.test(String(headers['content-type'] ?? ''))) {
      throw new UnsupportedMediaTypeException('send the body as JSON with Content-Type: application/json');
    }
    return true;
  }
}
