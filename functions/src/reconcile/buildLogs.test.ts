import { COLLECTIONS, mergeLines, type LogLine } from '@sigyl/types';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  startCloudLoggingStandin,
  type CloudLoggingStandin,
} from '../../test/standins/cloudLogging.ts';
import {
  seedBuildingDeployment,
  uniqueId,
  useTestProject,
} from '../../test/env.ts';
import { db } from '../firestore.ts';
import { lineFromEntry, type LogEntry } from '../logs/entries.ts';
import { logWriter } from '../logs/writer.ts';
import { reconcileBuildLogs } from './buildLogs.ts';

const projectId = useTestProject('reconcile');
let standin: CloudLoggingStandin;

beforeAll(async () => {
  // Two entries a page, so reconciliation has to follow page tokens.
  standin = await startCloudLoggingStandin({ pageLimit: 2 });
});
afterAll(async () => {
  await logWriter().flushStats();
  await standin.close();
});

function buildEntry(
  buildId: string,
  step: string,
  text: string,
  timestamp: string,
  insertId: string,
): LogEntry {
  return {
    logName: `projects/${projectId}/logs/cloudbuild`,
    resource: {
      type: 'build',
      labels: { build_id: buildId, project_id: projectId },
    },
    labels: { build_step: step },
    textPayload: text,
    timestamp,
    receiveTimestamp: timestamp,
    insertId,
    severity: 'INFO',
  };
}

async function storedLines(deploymentId: string): Promise<LogLine[]> {
  const chunks = await db()
    .collection(COLLECTIONS.deployments)
    .doc(deploymentId)
    .collection(COLLECTIONS.logs)
    .get();
  return mergeLines(
    chunks.docs.map((chunk) => chunk.get('lines') as LogLine[]),
  );
}

describe('reconcileBuildLogs', () => {
  it('adds the lines the sink lost, once, keeping the ones it delivered', async () => {
    const deploymentId = await seedBuildingDeployment();
    const buildId = uniqueId('b');
    const entries = [
      buildEntry(
        buildId,
        'MAIN',
        'starting build',
        '2026-03-01T10:00:00.123456789Z',
        '000001',
      ),
      buildEntry(
        buildId,
        'Step #0 - "fetch-source"',
        'Fetched 1a2b3c',
        '2026-03-01T10:00:01.5Z',
        '000002',
      ),
      buildEntry(
        buildId,
        'Step #1 - "install"',
        'added 12 packages\n',
        '2026-03-01T10:00:02.000001Z',
        '000003',
      ),
      {
        ...buildEntry(
          buildId,
          'Step #2 - "build"',
          '',
          '2026-03-01T10:00:03Z',
          '000004',
        ),
        textPayload: undefined,
        jsonPayload: { message: 'compiled 4 files', files: 4 },
      },
      buildEntry(buildId, 'MAIN', 'DONE', '2026-03-01T10:00:04.25Z', '000005'),
    ];
    const otherBuild = buildEntry(
      uniqueId('b'),
      'MAIN',
      'not this build',
      '2026-03-01T10:00:00Z',
      '000001',
    );
    const audit = {
      ...buildEntry(buildId, 'MAIN', 'audit', '2026-03-01T10:00:00Z', 'audit1'),
      logName: `projects/${projectId}/logs/cloudaudit.googleapis.com%2Factivity`,
    };
    standin.add(...entries, otherBuild, audit);
    // The sink delivered the first two and the last; ingestLogs stored them.
    const delivered = [entries[0]!, entries[1]!, entries[4]!].map((entry) =>
      lineFromEntry(entry, 'build')!,
    );
    await logWriter().append(deploymentId, delivered);

    const result = await reconcileBuildLogs(
      deploymentId,
      buildId,
      standin.client(),
    );

    expect(result).toEqual({ listed: 5, added: 2 });
    const lines = await storedLines(deploymentId);
    expect(lines.map((line) => line.text)).toEqual([
      'starting build',
      'Fetched 1a2b3c',
      'added 12 packages',
      'compiled 4 files',
      'DONE',
    ]);
    expect(lines.map((line) => line.step)).toEqual([
      undefined,
      undefined,
      'install',
      'build',
      undefined,
    ]);
    expect(lines[0]!.ts).toBe('2026-03-01T10:00:00.123456789Z');

    const again = await reconcileBuildLogs(
      deploymentId,
      buildId,
      standin.client(),
    );
    expect(again).toEqual({ listed: 5, added: 0 });
    expect(await storedLines(deploymentId)).toHaveLength(5);
  });

  it("asks Cloud Logging for the build's own log only", async () => {
    const deploymentId = await seedBuildingDeployment();
    const buildId = uniqueId('b');

    await reconcileBuildLogs(deploymentId, buildId, standin.client());

    const request = standin.requests.at(-1)!.request as {
      resourceNames: string[];
      filter: string;
    };
    expect(request.resourceNames).toEqual([`projects/${projectId}`]);
    expect(request.filter).toBe(
      `logName="projects/${projectId}/logs/cloudbuild" AND resource.type="build" AND resource.labels.build_id="${buildId}"`,
    );
  });
});
