// What an operator needs to see why a check failed; safe to log as JSON.
export type VerificationDetail = {
  url: string;
  step: string;
  status?: number;
  contentType?: string;
  body?: string;
  rpcError?: { code: number; message: string; data?: unknown };
  cause?: string;
};

// A server that did not pass the MCP handshake. `message` is written for the
// person who deployed the server; `detail` is for operator logs.
export class VerificationError extends Error {
  override name = 'VerificationError';

  constructor(
    message: string,
    readonly detail: VerificationDetail,
  ) {
    super(message);
  }
}
