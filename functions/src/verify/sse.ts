const EOL = /\r\n|\r|\n/;

// Reads a text/event-stream body and yields the data of each event, as the
// Streamable HTTP transport sends one JSON-RPC message per event. Comment
// lines (starting with ':'), `event:`, `id:` and `retry:` fields carry
// nothing a probe needs; events without data (resumability primers) are
// skipped.
export async function* sseEventData(
  body: ReadableStream<Uint8Array>,
  maxBytes: number,
): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let buffered = '';
  let data: string[] = [];
  let bytes = 0;

  const takeLine = (line: string): string | null => {
    if (line === '') {
      const event = data.join('\n');
      data = [];
      return event === '' ? null : event;
    }
    if (line.startsWith(':')) return null;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    if (field !== 'data') return null;
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    data.push(value);
    return null;
  };

  for await (const chunk of chunksOf(body)) {
    bytes += chunk.byteLength;
    if (bytes > maxBytes) {
      throw new Error(`event stream exceeded ${maxBytes} bytes`);
    }
    buffered += decoder.decode(chunk, { stream: true });
    // A '\r' at the end may be the first half of a '\r\n' cut in two.
    const held = buffered.endsWith('\r') ? '\r' : '';
    const lines = buffered.slice(0, buffered.length - held.length).split(EOL);
    // The last piece is a line not yet ended.
    buffered = (lines.pop() ?? '') + held;
    for (const line of lines) {
      const event = takeLine(line);
      if (event !== null) yield event;
    }
  }
  // Leniently, an event the stream ends in without a blank line still counts.
  buffered += decoder.decode();
  for (const line of [...buffered.split(EOL), '']) {
    const event = takeLine(line);
    if (event !== null) yield event;
  }
}

// Reads a stream chunk by chunk and cancels it when the reader stops early.
// (A reader loop rather than `for await` on the stream itself, which the DOM
// typings some files pull in do not declare.)
export async function* chunksOf(
  body: ReadableStream<Uint8Array>,
): AsyncGenerator<Uint8Array> {
  const reader = body.getReader();
  let done = false;
  try {
    for (;;) {
      const next = await reader.read();
      if (next.done) {
        done = true;
        return;
      }
      yield next.value;
    }
  } finally {
    if (!done) await reader.cancel().catch(() => undefined);
    reader.releaseLock();
  }
}
