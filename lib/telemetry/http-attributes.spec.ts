import { attemptErrorType, httpTarget } from './http-attributes';

describe('httpTarget', () => {
  it('keeps scheme, host, port and path, names the default port, and drops the fragment', () => {
    expect(httpTarget('https://hooks.example.com/in/abc#x')).toEqual({
      urlFull: 'https://hooks.example.com/in/abc',
      serverAddress: 'hooks.example.com',
      serverPort: 443,
    });
    expect(httpTarget('http://127.0.0.1:8080/a')).toEqual({
      urlFull: 'http://127.0.0.1:8080/a',
      serverAddress: '127.0.0.1',
      serverPort: 8080,
    });
    expect(httpTarget('http://[::1]/a')?.serverAddress).toBe('::1');
  });

  it('never carries credentials or query values', () => {
    const target = httpTarget('https://user:s3cret@hooks.example.com/in?token=abc123&token=def&v=2');
    expect(target?.urlFull).toBe('https://REDACTED:REDACTED@hooks.example.com/in?token=REDACTED&v=REDACTED');
    expect(JSON.stringify(target)).not.toMatch(/s3cret|abc123|def|user/);
  });

  it('is null for a URL that does not parse', () => {
    expect(httpTarget('not a url')).toBeNull();
  });
});

describe('attemptErrorType', () => {
  it('is the status code for any answer but 2xx', () => {
    expect(attemptErrorType(200, null)).toBeUndefined();
    expect(attemptErrorType(204, null)).toBeUndefined();
    expect(attemptErrorType(301, 'HTTP 301: redirects are not followed')).toBe('301');
    expect(attemptErrorType(500, 'HTTP 500')).toBe('500');
  });

  it('names why no answer came, with few distinct values', () => {
    expect(attemptErrorType(null, 'timed out after 2000 ms')).toBe('timeout');
    expect(attemptErrorType(null, 'refused to connect to 10.0.0.1: not a public address')).toBe('refused');
    expect(attemptErrorType(null, 'connect ECONNREFUSED 127.0.0.1:1')).toBe('ECONNREFUSED');
    expect(attemptErrorType(null, 'UND_ERR_SOCKET: other side closed')).toBe('UND_ERR_SOCKET');
    expect(attemptErrorType(null, 'other side closed')).toBe('_OTHER');
  });
});
