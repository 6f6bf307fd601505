import { isObject, McpHttp, type Reply } from './mcpHttp.ts';
import { VerificationError } from './VerificationError.ts';

export { VerificationError } from './VerificationError.ts';
export type { VerificationDetail } from './VerificationError.ts';

export type VerifiedServer = {
  protocolVersion: string;
  serverInfo: { name: string; version?: string } | null;
  tools: { name: string; description: string }[];
  era: 'modern' | 'legacy';
};

export type VerifyOptions = { timeoutMs?: number; signal?: AbortSignal };

// The first revision without initialize or sessions; versions are dates, so
// any later one compares greater as a string.
const MODERN_VERSION = '2026-07-28';
// What initialize asks for; a legacy server answers with the one it speaks.
const LEGACY_VERSION = '2025-11-25';
const CLIENT_INFO = { name: 'sigyl-verify', version: '1.0.0' };
const UNSUPPORTED_PROTOCOL_VERSION = -32022;
const HEADER_MISMATCH = -32020;
const MAX_TOOL_PAGES = 100;

type ToolLister = (
  cursor: string | undefined,
) => Promise<{ reply: Reply; result: Record<string, unknown> }>;

// Checks that `<baseUrl>/mcp` speaks MCP and lists its tools: first as a
// 2026-07-28 server (server/discover), then as a Streamable HTTP server of
// the 2025 revisions (initialize, then tools/list in that session).
export async function verifyMcpServer(
  baseUrl: string,
  options: VerifyOptions = {},
): Promise<VerifiedServer> {
  const http = new McpHttp(
    mcpEndpoint(baseUrl),
    options.timeoutMs ?? 30_000,
    options.signal,
  );
  const ids = { next: 1 };

  const discovered = await discover(http, ids, MODERN_VERSION, new Set());
  if ('legacyVersion' in discovered) {
    return verifyLegacy(http, ids, discovered.legacyVersion);
  }

  const { version, result } = discovered;
  const tools = await listAllTools(http, async (cursor) => {
    const reply = await http.request(
      'tools/list',
      ids.next++,
      modernParams(version, cursor ? { cursor } : {}),
      modernHeaders(version, 'tools/list'),
    );
    return { reply, result: expectResult(http, 'tools/list', reply) };
  });
  const meta = isObject(result._meta) ? result._meta : {};
  return {
    protocolVersion: version,
    serverInfo:
      readServerInfo(meta['io.modelcontextprotocol/serverInfo']) ??
      readServerInfo(result.serverInfo),
    tools,
    era: 'modern',
  };
}

type Discovered =
  | { version: string; result: Record<string, unknown> }
  | { legacyVersion: string };

async function discover(
  http: McpHttp,
  ids: { next: number },
  version: string,
  tried: Set<string>,
): Promise<Discovered> {
  tried.add(version);
  const reply = await http.request(
    'server/discover',
    ids.next++,
    modernParams(version, {}),
    modernHeaders(version, 'server/discover'),
  );
  if (reply.status === 200 && reply.response?.result) {
    return { version, result: reply.response.result };
  }

  const error = reply.status === 400 ? reply.response?.error : undefined;
  if (error?.code === UNSUPPORTED_PROTOCOL_VERSION) {
    const supported = readSupportedVersions(error.data);
    const modern = supported.filter(
      (v) => v >= MODERN_VERSION && !tried.has(v),
    );
    if (modern[0]) return discover(http, ids, modern[0], tried);
    const legacy = supported.filter((v) => v < MODERN_VERSION);
    if (legacy[0]) return { legacyVersion: legacy[0] };
    throw http.fail(
      'server/discover',
      reply,
      'The server supports no MCP version this check can speak',
    );
  }
  if (error?.code === HEADER_MISMATCH) {
    // Our headers match the body by construction, so something between us
    // and the server changed them; asking again would change nothing.
    throw http.fail(
      'server/discover',
      reply,
      'The server saw MCP headers that do not match the request (a proxy ' +
        'in front of it may drop or rewrite Mcp-Method and ' +
        'MCP-Protocol-Version)',
    );
  }
  // Anything else (404, 405, a plain 400, a JSON-RPC "method not found")
  // is how a server of the 2025 revisions answers a request it predates.
  return { legacyVersion: LEGACY_VERSION };
}

async function verifyLegacy(
  http: McpHttp,
  ids: { next: number },
  requestedVersion: string,
): Promise<VerifiedServer> {
  const initialize = await http.request(
    'initialize',
    ids.next++,
    {
      protocolVersion: requestedVersion,
      capabilities: {},
      clientInfo: CLIENT_INFO,
    },
    {},
  );
  const result = expectResult(http, 'initialize', initialize);
  if (typeof result.protocolVersion !== 'string') {
    throw http.fail(
      'initialize',
      initialize,
      'The server answered initialize without a protocolVersion',
    );
  }
  const protocolVersion = result.protocolVersion;
  const sessionId = initialize.headers.get('mcp-session-id');
  const headers: Record<string, string> = {
    'mcp-protocol-version': protocolVersion,
    ...(sessionId ? { 'mcp-session-id': sessionId } : {}),
  };

  try {
    const initialized = await http.notify('notifications/initialized', headers);
    if (initialized.status < 200 || initialized.status > 299) {
      throw http.fail(
        'notifications/initialized',
        initialized,
        'The server refused the initialized notification',
      );
    }

    const tools = await listAllTools(http, async (cursor) => {
      const reply = await http.request(
        'tools/list',
        ids.next++,
        cursor ? { cursor } : {},
        headers,
      );
      return { reply, result: expectResult(http, 'tools/list', reply) };
    });
    return {
      protocolVersion,
      serverInfo: readServerInfo(result.serverInfo),
      tools,
      era: 'legacy',
    };
  } finally {
    if (sessionId) await http.endSession(headers);
  }
}

async function listAllTools(
  http: McpHttp,
  listPage: ToolLister,
): Promise<VerifiedServer['tools']> {
  const tools: VerifiedServer['tools'] = [];
  const seenCursors = new Set<string>();
  let cursor: string | undefined;
  for (let page = 0; page < MAX_TOOL_PAGES; page++) {
    const { reply, result } = await listPage(cursor);
    if (!Array.isArray(result.tools)) {
      throw http.fail(
        'tools/list',
        reply,
        'The tools/list result has no tools',
      );
    }
    for (const tool of result.tools) {
      if (!isObject(tool) || typeof tool.name !== 'string') {
        throw http.fail('tools/list', reply, 'A listed tool has no name');
      }
      tools.push({
        name: tool.name,
        description:
          typeof tool.description === 'string' ? tool.description : '',
      });
    }
    const next = result.nextCursor;
    if (typeof next !== 'string' || next === '') return tools;
    if (seenCursors.has(next)) {
      throw http.fail('tools/list', reply, 'tools/list repeats a page cursor');
    }
    seenCursors.add(next);
    cursor = next;
  }
  throw new VerificationError(
    `tools/list at ${http.url} still had more pages after ${MAX_TOOL_PAGES}.`,
    { url: http.url, step: 'tools/list' },
  );
}

function expectResult(
  http: McpHttp,
  step: string,
  reply: Reply,
): Record<string, unknown> {
  if (reply.status === 200 && reply.response?.result) {
    return reply.response.result;
  }
  if (reply.response?.error) {
    throw http.fail(step, reply, `The MCP server failed ${step}`);
  }
  throw http.fail(
    step,
    reply,
    reply.status === 200
      ? `The server did not answer ${step} with a JSON-RPC response`
      : `The server did not answer ${step} as an MCP server`,
  );
}

function modernParams(version: string, params: Record<string, unknown>) {
  return {
    ...params,
    _meta: {
      'io.modelcontextprotocol/protocolVersion': version,
      'io.modelcontextprotocol/clientInfo': CLIENT_INFO,
      'io.modelcontextprotocol/clientCapabilities': {},
    },
  };
}

function modernHeaders(version: string, method: string) {
  return { 'mcp-protocol-version': version, 'mcp-method': method };
}

function readSupportedVersions(data: unknown): string[] {
  if (!isObject(data) || !Array.isArray(data.supported)) return [];
  return data.supported
    .filter((v): v is string => typeof v === 'string')
    .sort()
    .reverse();
}

function readServerInfo(value: unknown): VerifiedServer['serverInfo'] {
  if (!isObject(value) || typeof value.name !== 'string') return null;
  return typeof value.version === 'string'
    ? { name: value.name, version: value.version }
    : { name: value.name };
}

function mcpEndpoint(baseUrl: string): string {
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch {
    throw new VerificationError(`"${baseUrl}" is not a URL.`, {
      url: baseUrl,
      step: 'url',
    });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new VerificationError(`"${baseUrl}" is not an http or https URL.`, {
      url: baseUrl,
      step: 'url',
    });
  }
  url.pathname = url.pathname.replace(/\/+$/, '') + '/mcp';
  url.search = '';
  url.hash = '';
  return url.toString();
}
