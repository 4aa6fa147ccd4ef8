import { request } from 'node:http';

export interface RawAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: { status?: string; reason?: string; message?: string } & Record<string, unknown>;
}

/**
 * One HTTP call with what supertest cannot set: the local address it comes from (any 127.x.y.z
 * on Linux) and raw headers. Its body is read as JSON when it is JSON.
 */
export function rawRequest(
  url: string,
  options: {
    method?: string;
    headers?: Record<string, string>;
    body?: string;
    localAddress?: string;
  } = {},
): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const call = request(
      url,
      {
        method: options.method ?? 'GET',
        headers: options.headers,
        localAddress: options.localAddress,
        agent: false,
      },
      (answer) => {
        let text = '';
        answer.setEncoding('utf8');
        answer.on('data', (chunk: string) => (text += chunk));
        answer.on('end', () => {
          const json = /json/.test(answer.headers['content-type'] ?? '');
          resolve({
            status: answer.statusCode ?? 0,
            headers: answer.headers,
            body: json ? (JSON.parse(text) as RawAnswer['body']) : {},
          });
        });
      },
    );
    call.on('error', reject);
    call.end(options.body);
  });
}
