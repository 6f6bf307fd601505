import { setTimeout as sleep } from 'node:timers/promises';
import { chunksOf, sseEventData } from './sse.ts';
import { VerificationError } from './VerificationError.ts';

export type RpcError = { code: number; message: string; data?: unknown };

export type RpcResponse =
  | { result: Record<string, unknown>; error?: undefined }
  | { result?: undefined; error: RpcError };

export type Reply = {
  status: number;
  headers: Headers;
  contentType: string;
  // The JSON-RPC response to the request sent, if the body held one.
  response: RpcResponse | null;
  // The start of the body when it held no response, for error messages.
  body: string;
};

const MAX_REPLY_BYTES = 8 * 1024 * 1024;
const EXCERPT_CHARS = 500;
const DETAIL_BODY_CHARS = 2048;
// Answers a server gives while it or the proxy in front of it is starting.
const STARTING_STATUSES = new Set([502, 503, 504]);

// POSTs JSON-RPC messages to one MCP endpoint within one overall deadline,
// retrying while the server is not up yet.
export class McpHttp {
  private readonly deadline: number;

  constructor(
    readonly url: string,
    private readonly timeoutMs: number,
    private readonly signal?: AbortSignal,
  ) {
    this.deadline = Date.now() + timeoutMs;
  }

  async request(
    method: string,
    id: number,
    params: Record<string, unknown>,
    headers: Record<string, string>,
  ): Promise<Reply> {
    const body = { jsonrpc: '2.0', id, method, params };
    const response = await this.post(method, body, headers);
    return this.readReply(method, id, response);
  }

  async notify(
    method: string,
    headers: Record<string, string>,
  ): Promise<Reply> {
    const response = await this.post(
      method,
      { jsonrpc: '2.0', method },
      headers,
    );
    return this.readReply(method, null, response);
  }

  // Ends a session. The answer does not matter: 405 means the server keeps
  // no sessions it lets clients end, and a failure here fails nothing.
  async endSession(headers: Record<string, string>): Promise<void> {
    try {
      const response = await fetch(this.url, {
        method: 'DELETE',
        headers,
        signal: this.fetchSignal(2000),
      });
      await response.body?.cancel();
    } catch {
      // Nothing to do: the server cleans up idle sessions itself.
    }
  }

  private async post(
    step: string,
    body: unknown,
    headers: Record<string, string>,
  ): Promise<Response> {
    let lastFailure = '';
    for (let attempt = 0; ; attempt++) {
      try {
        const response = await fetch(this.url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            accept: 'application/json, text/event-stream',
            ...headers,
          },
          body: JSON.stringify(body),
          signal: this.fetchSignal(),
        });
        if (!STARTING_STATUSES.has(response.status)) return response;
        const start = await readBodyStart(response);
        lastFailure = `HTTP ${response.status}${start ? `: ${start}` : ''}`;
      } catch (error) {
        this.throwIfStopped(step, error);
        // fetch reports network failures with a cause; anything else is a
        // request that no retry would fix.
        if (!(error instanceof Error && error.cause)) {
          throw new VerificationError(
            `Could not send ${step} to ${this.url}: ${String(error)}`,
            { url: this.url, step, cause: String(error) },
          );
        }
        lastFailure = describeNetworkError(error);
      }

      // Leave the last attempt a moment to connect.
      const remaining = this.deadline - Date.now() - 50;
      if (remaining <= 0) {
        throw new VerificationError(
          lastFailure.startsWith('HTTP')
            ? `${this.url} kept answering ${lastFailure.slice(0, EXCERPT_CHARS)} ` +
                `for ${this.seconds()} s; the server did not become ready.`
            : `Could not connect to ${this.url} within ${this.seconds()} s ` +
                `(${lastFailure}).` +
                (lastFailure === 'connection refused'
                  ? ' Nothing is listening there.'
                  : ''),
          { url: this.url, step, cause: lastFailure },
        );
      }
      const delay = Math.min(100 * 2 ** attempt, 1000, remaining);
      await sleep(delay, undefined, { signal: this.signal });
    }
  }

  private async readReply(
    step: string,
    id: number | null,
    response: Response,
  ): Promise<Reply> {
    const contentType = response.headers.get('content-type') ?? '';
    const reply: Reply = {
      status: response.status,
      headers: response.headers,
      contentType,
      response: null,
      body: '',
    };
    try {
      if (id !== null && contentType.includes('text/event-stream')) {
        reply.response = await findInEventStream(response, id);
      } else if (id !== null && contentType.includes('application/json')) {
        const text = await readText(response, MAX_REPLY_BYTES);
        reply.response = findResponse(parseJson(text), id);
        if (!reply.response) reply.body = bodyStart(text);
      } else {
        reply.body = await readBodyStart(response);
      }
    } catch (error) {
      this.throwIfStopped(step, error);
      throw new VerificationError(
        `The reply of ${this.url} to ${step} could not be read: ` +
          `${describeNetworkError(error)}.`,
        { url: this.url, step, status: response.status, contentType },
      );
    }
    return reply;
  }

  // An error saying what was tried and what came back.
  fail(step: string, reply: Reply, problem: string): VerificationError {
    const type = reply.contentType ? ` (${reply.contentType})` : '';
    const rpcError = reply.response?.error;
    const shown = rpcError
      ? `: error ${rpcError.code}: ${rpcError.message}`
      : reply.body
        ? `: ${reply.body.slice(0, EXCERPT_CHARS)}`
        : ' and an empty body';
    return new VerificationError(
      `${problem}. ${step} at ${this.url} got HTTP ${reply.status}${type}${shown}`,
      {
        url: this.url,
        step,
        status: reply.status,
        contentType: reply.contentType,
        body: reply.body,
        ...(rpcError ? { rpcError } : {}),
      },
    );
  }

  private fetchSignal(capMs = Infinity): AbortSignal {
    const remaining = Math.max(0, Math.min(capMs, this.deadline - Date.now()));
    const timeout = AbortSignal.timeout(remaining);
    return this.signal ? AbortSignal.any([this.signal, timeout]) : timeout;
  }

  private throwIfStopped(step: string, error: unknown): void {
    if (this.signal?.aborted) throw this.signal.reason;
    if (
      error instanceof Error &&
      (error.name === 'TimeoutError' || error.name === 'AbortError')
    ) {
      throw new VerificationError(
        `No answer from ${this.url} to ${step} within ${this.seconds()} s.`,
        { url: this.url, step, cause: 'timeout' },
      );
    }
    if (error instanceof VerificationError) throw error;
  }

  private seconds(): number {
    return Math.round(this.timeoutMs / 100) / 10;
  }
}

async function findInEventStream(
  response: Response,
  id: number,
): Promise<RpcResponse | null> {
  if (!response.body) return null;
  // The stream may carry notifications and server requests before the
  // response, and may stay open after it.
  for await (const data of sseEventData(response.body, MAX_REPLY_BYTES)) {
    const found = findResponse(parseJson(data), id);
    if (found) return found;
  }
  return null;
}

function findResponse(message: unknown, id: number): RpcResponse | null {
  const candidates = Array.isArray(message) ? message : [message];
  for (const candidate of candidates) {
    if (!isObject(candidate)) continue;
    // A server that could not read the request answers with id null.
    if (candidate.id !== id && candidate.id !== null) continue;
    if (isObject(candidate.result)) return { result: candidate.result };
    const error = candidate.error;
    if (
      isObject(error) &&
      typeof error.code === 'number' &&
      typeof error.message === 'string'
    ) {
      return {
        error: { code: error.code, message: error.message, data: error.data },
      };
    }
  }
  return null;
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

async function readText(response: Response, maxBytes: number) {
  if (!response.body) return '';
  const decoder = new TextDecoder();
  let text = '';
  let bytes = 0;
  for await (const chunk of chunksOf(response.body)) {
    bytes += chunk.byteLength;
    if (bytes > maxBytes) throw new Error(`reply exceeded ${maxBytes} bytes`);
    text += decoder.decode(chunk, { stream: true });
  }
  return text + decoder.decode();
}

async function readBodyStart(response: Response): Promise<string> {
  if (!response.body) return '';
  const decoder = new TextDecoder();
  let text = '';
  try {
    for await (const chunk of chunksOf(response.body)) {
      text += decoder.decode(chunk, { stream: true });
      if (text.length >= DETAIL_BODY_CHARS) break;
    }
  } catch {
    // What arrived is enough to show.
  }
  return bodyStart(text);
}

function bodyStart(text: string): string {
  return text.replace(/\s+/g, ' ').trim().slice(0, DETAIL_BODY_CHARS);
}

function describeNetworkError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause;
  if (isObject(cause) && typeof cause.code === 'string') {
    return cause.code === 'ECONNREFUSED' ? 'connection refused' : cause.code;
  }
  return error.message;
}
