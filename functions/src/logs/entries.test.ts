import { describe, expect, it } from 'vitest';
import {
  entriesFromMessage,
  lineFromEntry,
  targetOf,
  type LogEntry,
} from './entries.ts';

const base64 = (value: unknown) =>
  Buffer.from(
    typeof value === 'string' ? value : JSON.stringify(value),
  ).toString('base64');

const build: LogEntry = {
  logName: 'projects/p/logs/cloudbuild',
  resource: { type: 'build', labels: { build_id: 'b1' } },
  labels: { build_step: 'Step #1 - "install"' },
  textPayload: 'added 3 packages',
  timestamp: '2026-03-01T10:00:00.123456Z',
  insertId: 'abc',
};

describe('entriesFromMessage', () => {
  it('reads one entry or a batch of them', () => {
    expect(entriesFromMessage(base64(build))).toEqual([build]);
    expect(entriesFromMessage(base64({ entries: [build, build] }))).toEqual([
      build,
      build,
    ]);
  });

  it('says why a message cannot be read', () => {
    expect(entriesFromMessage(undefined)).toEqual({
      invalid: 'message has no data',
    });
    expect(entriesFromMessage(base64('{oops'))).toHaveProperty('invalid');
    expect(entriesFromMessage(base64({ a: 1 }))).toHaveProperty('invalid');
  });
});

describe('targetOf', () => {
  it('maps build steps and platform lines', () => {
    expect(targetOf(build)).toEqual({
      kind: 'build',
      buildId: 'b1',
      step: 'install',
    });
    expect(targetOf({ ...build, labels: { build_step: 'MAIN' } })).toEqual({
      kind: 'build',
      buildId: 'b1',
    });
  });

  it('ignores audit entries of builds', () => {
    const audit = {
      ...build,
      logName: 'projects/p/logs/cloudaudit.googleapis.com%2Factivity',
    };
    expect(targetOf(audit).kind).toBe('ignored');
  });

  it('takes the deployment id from the revision name', () => {
    const entry: LogEntry = {
      logName: 'projects/p/logs/run.googleapis.com%2Fstderr',
      resource: {
        type: 'cloud_run_revision',
        labels: { service_name: 'mcp-a-b', revision_name: 'mcp-a-b-d123' },
      },
    };
    expect(targetOf(entry)).toEqual({
      kind: 'runtime',
      serviceName: 'mcp-a-b',
      deploymentId: 'd123',
      stream: 'stderr',
    });
    const foreign = {
      ...entry,
      resource: {
        type: 'cloud_run_revision',
        labels: { service_name: 'web', revision_name: 'web-00001-abc' },
      },
    };
    expect(targetOf(foreign).kind).toBe('ignored');
  });
});

describe('lineFromEntry', () => {
  it('gives a redelivered entry the same id', () => {
    const line = lineFromEntry(build, 'build', { step: 'install' });
    expect(line).toMatchObject({
      ts: '2026-03-01T10:00:00.123456000Z',
      text: 'added 3 packages',
      step: 'install',
    });
    expect(lineFromEntry({ ...build }, 'build')?.id).toBe(line?.id);
    expect(lineFromEntry({ ...build, insertId: 'abd' }, 'build')?.id).not.toBe(
      line?.id,
    );
  });

  it('takes the message of a JSON payload, else its JSON', () => {
    const json = { ...build, textPayload: undefined };
    expect(
      lineFromEntry({ ...json, jsonPayload: { message: 'hi' } }, 'build')?.text,
    ).toBe('hi');
    expect(
      lineFromEntry({ ...json, jsonPayload: { level: 3 } }, 'build')?.text,
    ).toBe('{"level":3}');
    expect(lineFromEntry(json, 'build')).toBeNull();
  });
});
