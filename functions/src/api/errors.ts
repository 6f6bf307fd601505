// An error the HTTP edge turns into a 4xx with a body a user can act on.
export class RequestError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }

  toBody() {
    return {
      error: {
        code: this.code,
        message: this.message,
        ...(this.field ? { field: this.field } : {}),
      },
    };
  }
}

export const invalid = (field: string, message: string) =>
  new RequestError(400, 'invalid_argument', message, field);
