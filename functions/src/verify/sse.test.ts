import { describe, expect, it } from 'vitest';
import { sseEventData } from './sse.ts';

function streamOf(...chunks: string[]): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  return new ReadableStream({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(encoder.encode(chunk));
      controller.close();
    },
  });
}

async function eventsOf(...chunks: string[]): Promise<string[]> {
  const events: string[] = [];
  for await (const data of sseEventData(streamOf(...chunks), 1 << 20)) {
    events.push(data);
  }
  return events;
}

describe('sseEventData', () => {
  it('yields the data of each event and skips comments and primers', async () => {
    const events = await eventsOf(
      ': connected\n\n',
      'id: 1\nretry: 1000\ndata: \n\n',
      'event: message\nid: 2\ndata: {"a":1}\n\n',
      'data:{"b":2}\n\n',
    );
    expect(events).toEqual(['{"a":1}', '{"b":2}']);
  });

  it('joins data lines and survives lines and CRLFs cut across chunks', async () => {
    const events = await eventsOf(
      'data: first\r',
      '\ndata: sec',
      'ond\r\n\r',
      '\ndata: third\r\n\r\n',
    );
    expect(events).toEqual(['first\nsecond', 'third']);
  });

  it('keeps an event the stream ends in without a blank line', async () => {
    expect(await eventsOf('data: {"x":1}\n\ndata: {"y":2}')).toEqual([
      '{"x":1}',
      '{"y":2}',
    ]);
  });

  it('stops a stream larger than the limit', async () => {
    const data = sseEventData(
      streamOf('data: ' + 'x'.repeat(100) + '\n\n'),
      50,
    );
    await expect(data.next()).rejects.toThrow(/exceeded 50 bytes/);
  });
});
