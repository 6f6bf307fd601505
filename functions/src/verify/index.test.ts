import {
  createServer,
  request as httpRequest,
  type RequestListener,
  type Server,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import {
  freePort,
  startService,
  type Service,
  waitFor,
} from '../../../scripts/stack/processes.ts';
import { VerificationError, verifyMcpServer } from './index.ts';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const fixtures = `${root}functions/test/fixtures/mcp-servers/`;
const tsx = `${root}node_modules/.bin/tsx`;

const services: Service[] = [];
const servers: Server[] = [];

afterAll(async () => {
  await Promise.all(services.map((service) => service.stop()));
  await Promise.all(
    servers.map((server) => new Promise((done) => server.close(done))),
  );
});

// Starts a fixture in its own process group and returns its base URL without
// waiting: verification itself must wait for a server that is starting.
async function startFixture(file: string, args: (port: number) => string[]) {
  const port = await freePort();
  const service = startService(file, tsx, [fixtures + file, ...args(port)], {
    cwd: root,
  });
  services.push(service);
  return { url: `http://127.0.0.1:${port}`, service };
}

async function startPlainServer(handler: RequestListener): Promise<string> {
  const server = createServer(handler);
  servers.push(server);
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function verificationError(
  promise: Promise<unknown>,
): Promise<VerificationError> {
  const error: unknown = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(VerificationError);
  return error as VerificationError;
}

describe('verifyMcpServer against legacy (2025) servers', () => {
  it('lists the tools of server-everything behind supergateway', async () => {
    const port = await freePort();
    const everything = `node ${root}node_modules/@modelcontextprotocol/server-everything/dist/index.js stdio`;
    services.push(
      startService('supergateway', `${root}node_modules/.bin/supergateway`, [
        '--stdio',
        everything,
        '--outputTransport',
        'streamableHttp',
        '--stateful',
        '--port',
        String(port),
        '--healthEndpoint',
        '/healthz',
      ]),
    );

    const server = await verifyMcpServer(`http://127.0.0.1:${port}`);

    expect(server.era).toBe('legacy');
    expect(server.protocolVersion).toBe('2025-11-25');
    expect(server.serverInfo?.name).toBe('mcp-servers/everything');
    expect(server.tools.map((tool) => tool.name).sort()).toEqual([
      'echo',
      'get-annotated-message',
      'get-env',
      'get-resource-links',
      'get-resource-reference',
      'get-structured-content',
      'get-sum',
      'get-tiny-image',
      'gzip-file-as-resource',
      'simulate-research-query',
      'toggle-simulated-logging',
      'toggle-subscriber-updates',
      'trigger-long-running-operation',
    ]);
    expect(server.tools.find((tool) => tool.name === 'echo')).toEqual({
      name: 'echo',
      description: 'Echoes back the input string',
    });
  });

  it('verifies a stateless SDK server that answers in JSON', async () => {
    const { url } = await startFixture('sdk-http-server.ts', (port) => [
      'stateless-json',
      String(port),
    ]);

    const server = await verifyMcpServer(`${url}/`);

    expect(server).toEqual({
      era: 'legacy',
      protocolVersion: '2025-11-25',
      serverInfo: { name: 'fixture-stateless-json', version: '1.2.3' },
      tools: [
        { name: 'add', description: 'Adds two numbers' },
        { name: 'shout', description: 'Says it louder' },
      ],
    });
  });

  it('verifies a stateful SDK server that answers in SSE, then ends the session', async () => {
    const { url, service } = await startFixture(
      'sdk-http-server.ts',
      (port) => ['stateful-sse', String(port)],
    );

    const server = await verifyMcpServer(url);

    expect(server.era).toBe('legacy');
    expect(server.serverInfo).toEqual({
      name: 'fixture-stateful-sse',
      version: '1.2.3',
    });
    expect(server.tools.map((tool) => tool.name)).toEqual(['add', 'shout']);
    // The fixture prints this when a DELETE ends the session.
    await waitFor(
      'the session to end',
      async () => service.output.some((l) => l.startsWith('session closed')),
      null,
      5000,
    );
  });
});

describe('verifyMcpServer against modern (2026-07-28) servers', () => {
  it('discovers the server and follows tools/list pages', async () => {
    const { url } = await startFixture('modern-server.ts', (port) => [
      String(port),
    ]);

    const server = await verifyMcpServer(url);

    expect(server).toEqual({
      era: 'modern',
      protocolVersion: '2026-07-28',
      serverInfo: { name: 'fixture-modern', version: '0.9.0' },
      tools: ['alpha', 'beta', 'gamma', 'delta', 'epsilon'].map((name) => ({
        name,
        description: `The ${name} tool`,
      })),
    });
  });

  it('reads a response that follows comments and notifications in SSE', async () => {
    const { url } = await startFixture('modern-server.ts', (port) => [
      String(port),
      '--sse',
    ]);

    const server = await verifyMcpServer(url);

    expect(server.era).toBe('modern');
    expect(server.tools).toHaveLength(5);
  });

  it('retries with a version the server lists as supported', async () => {
    const { url } = await startFixture('modern-server.ts', (port) => [
      String(port),
      '--versions',
      '2026-11-30',
    ]);

    const server = await verifyMcpServer(url);

    expect(server.era).toBe('modern');
    expect(server.protocolVersion).toBe('2026-11-30');
    expect(server.tools).toHaveLength(5);
  });

  it('says so when something between drops the MCP headers', async () => {
    const { url } = await startFixture('modern-server.ts', (port) => [
      String(port),
      '--drop-method-header',
    ]);

    const error = await verificationError(verifyMcpServer(url));

    expect(error.message).toMatch(/headers that do not match/);
    expect(error.message).toContain('HTTP 400');
    expect(error.detail.rpcError?.code).toBe(-32020);
  });
});

describe('verifyMcpServer failures', () => {
  it('reports a server whose tools/list fails after initialize', async () => {
    const { url } = await startFixture('sdk-http-server.ts', (port) => [
      'tools-error',
      String(port),
    ]);

    const error = await verificationError(verifyMcpServer(url));

    expect(error.message).toContain('tools/list');
    expect(error.message).toContain('tool registry is broken');
    expect(error.detail).toMatchObject({ step: 'tools/list', status: 200 });
  });

  it('gives up on nothing listening within the timeout', async () => {
    const url = `http://127.0.0.1:${await freePort()}`;
    const started = Date.now();

    const error = await verificationError(
      verifyMcpServer(url, { timeoutMs: 1500 }),
    );

    expect(error.message).toMatch(/Could not connect to .* within 1\.5 s/);
    expect(error.message).toContain('connection refused');
    expect(Date.now() - started).toBeLessThan(1500 + 1000);
  });

  it('explains a plain web server that has no /mcp', async () => {
    const url = await startPlainServer((request, response) => {
      response.writeHead(404, { 'content-type': 'text/html' });
      response.end(
        `<html><body><h1>Not Found</h1>${request.url}</body></html>`,
      );
    });

    const error = await verificationError(verifyMcpServer(url));

    expect(error.message).toMatch(/did not answer initialize as an MCP server/);
    expect(error.message).toContain('HTTP 404 (text/html)');
    expect(error.message).toContain('<h1>Not Found</h1>/mcp');
    expect(error.detail).toMatchObject({ step: 'initialize', status: 404 });
  });

  it('explains a server that answers POST /mcp with a web page', async () => {
    const requests: string[] = [];
    const url = await startPlainServer((request, response) => {
      requests.push(`${request.method} ${request.url}`);
      response.writeHead(200, { 'content-type': 'text/html' });
      response.end('<!doctype html><title>My app</title>');
    });

    const error = await verificationError(verifyMcpServer(url));

    expect(error.message).toMatch(/did not answer initialize with a JSON-RPC/);
    expect(error.message).toContain('<title>My app</title>');
    // Only POSTs: a GET is no MCP check.
    expect(requests.every((line) => line === 'POST /mcp')).toBe(true);
  });

  it('explains a server that only answers GET', async () => {
    const url = await startPlainServer((request, response) => {
      if (request.method === 'GET') response.end('hello');
      else response.writeHead(405, { allow: 'GET' }).end();
    });

    const error = await verificationError(verifyMcpServer(url));

    expect(error.message).toContain('HTTP 405');
    expect(error.message).toContain('empty body');
  });

  it('stops waiting for a server that never answers', async () => {
    const url = await startPlainServer(() => {
      // Holds every request open.
    });

    const error = await verificationError(
      verifyMcpServer(url, { timeoutMs: 800 }),
    );

    expect(error.message).toMatch(/No answer from .* to server\/discover/);
  });

  it('waits through 503s while a server starts', async () => {
    const { url: target } = await startFixture('modern-server.ts', (port) => [
      String(port),
    ]);
    let unavailable = 3;
    const url = await startPlainServer((request, response) => {
      if (unavailable-- > 0) {
        response.writeHead(503).end('starting');
        return;
      }
      const forwarded = httpRequest(
        `${target}${request.url}`,
        { method: request.method, headers: request.headers },
        (answer) => {
          response.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(response);
        },
      );
      forwarded.on('error', () => response.writeHead(502).end());
      request.pipe(forwarded);
    });

    const server = await verifyMcpServer(url);

    expect(server.era).toBe('modern');
    expect(unavailable).toBeLessThan(0);
  });

  it('reports a server that keeps answering 503', async () => {
    const url = await startPlainServer((_request, response) => {
      response.writeHead(503).end('Service Unavailable');
    });

    const error = await verificationError(
      verifyMcpServer(url, { timeoutMs: 1000 }),
    );

    expect(error.message).toMatch(/kept answering HTTP 503/);
  });

  it('rejects a base URL that is not http', async () => {
    await expect(verifyMcpServer('ftp://example.com')).rejects.toThrow(
      /not an http or https URL/,
    );
    await expect(verifyMcpServer('example.com')).rejects.toThrow(
      /is not a URL/,
    );
  });

  it('stops when the caller aborts', async () => {
    const url = `http://127.0.0.1:${await freePort()}`;
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 200);

    await expect(
      verifyMcpServer(url, { signal: controller.signal }),
    ).rejects.toMatchObject({ name: 'AbortError' });
  });
});
