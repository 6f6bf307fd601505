import { newDeploymentDoc, type LogLine, type Step } from '@sigyl/types';
import { describe, expect, it } from 'vitest';
import { stepsWithBuildProgress } from './steps.ts';

const building = (): Step[] =>
  newDeploymentDoc({
    packageId: 'p',
    ownerId: 'o',
    source: { type: 'npm', spec: 'x' },
  }).steps.map((step) =>
    step.name === 'source'
      ? { ...step, status: 'running', startedAt: '2026-12-03T18:00:00.000Z' }
      : step,
  );

const line = (step: string | undefined, ts: string): LogLine => ({
  id: `${step}-${ts}`,
  ts,
  text: 'npm notice',
  source: 'build',
  step,
});

describe('the step timeline while a build runs', () => {
  it('moves to building once a line of a later build step arrives', () => {
    const steps = stepsWithBuildProgress(building(), [
      line('fetch-source', '2026-12-03T18:00:01.000000001Z'),
      line('install', '2026-12-03T18:00:03.250000000Z'),
    ]);
    expect(steps.map((s) => s.status)).toEqual([
      'done',
      'running',
      'pending',
      'pending',
    ]);
    expect(steps[0]!.finishedAt).toBe('2026-12-03T18:00:03.250Z');
    expect(steps[1]!.startedAt).toBe('2026-12-03T18:00:03.250Z');
  });

  it('keeps the source step running while only its own lines have come', () => {
    const steps = building();
    expect(
      stepsWithBuildProgress(steps, [
        line('fetch-source', '2026-12-03T18:00:01.000000001Z'),
        line(undefined, '2026-12-03T18:00:01.000000002Z'),
      ]),
    ).toBe(steps);
  });

  it('leaves steps the backend has settled alone', () => {
    const done = building().map((step) =>
      step.name === 'source' ? { ...step, status: 'done' as const } : step,
    );
    expect(
      stepsWithBuildProgress(done, [line('install', '2026-12-03T18:00:03.0Z')]),
    ).toBe(done);
  });
});
