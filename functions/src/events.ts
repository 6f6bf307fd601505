import type { CloudEvent } from '@google-cloud/functions-framework';

// The CloudEvent that functions-framework delivers for a Pub/Sub message,
// both from Eventarc in Google Cloud and from an emulator push locally.
export type PubSubEvent = CloudEvent<{
  message?: {
    data?: string;
    attributes?: Record<string, string>;
    messageId?: string;
  };
}>;

// The message's JSON, or null when it is not JSON: such a message can never
// succeed, so handlers log and acknowledge it.
export function messageJson(event: PubSubEvent): unknown {
  const data = event.data?.message?.data;
  if (!data) return null;
  try {
    return JSON.parse(Buffer.from(data, 'base64').toString('utf8'));
  } catch {
    return null;
  }
}

export function messageAttributes(event: PubSubEvent): Record<string, string> {
  return event.data?.message?.attributes ?? {};
}
