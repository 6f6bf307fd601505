import { PubSub } from '@google-cloud/pubsub';
import { config } from './config.ts';

const clients = new Map<string, PubSub>();

export function pubsub(): PubSub {
  const { projectId } = config();
  let client = clients.get(projectId);
  if (!client) {
    client = new PubSub({ projectId });
    clients.set(projectId, client);
  }
  return client;
}

export async function publishJson(
  topic: string,
  data: unknown,
  attributes: Record<string, string> = {},
): Promise<string> {
  return pubsub()
    .topic(topic)
    .publishMessage({ data: Buffer.from(JSON.stringify(data)), attributes });
}
