import type { LogLine, Step } from '@sigyl/types';

const BUILD_STEP_IDS = new Set(['install', 'build', 'bridge']);

// Cloud Build reports a build's status only when the build starts and ends,
// so while it runs the deployment says no more than "source: running". The
// build's own lines say more: once a line of a later build step arrives,
// fetching the source is over and building has begun.
export function stepsWithBuildProgress(
  steps: Step[],
  lines: readonly LogLine[],
): Step[] {
  const source = steps.find((step) => step.name === 'source');
  const build = steps.find((step) => step.name === 'build');
  if (source?.status !== 'running' || build?.status !== 'pending') return steps;
  const first = lines.find(
    (line) =>
      line.source === 'build' &&
      line.step !== undefined &&
      BUILD_STEP_IDS.has(line.step),
  );
  if (!first) return steps;
  // `ts` has nine fractional digits; a Date takes three.
  const at = new Date(`${first.ts.slice(0, 23)}Z`).toISOString();
  return steps.map((step) => {
    if (step.name === 'source')
      return { ...step, status: 'done', finishedAt: at };
    if (step.name === 'build')
      return { ...step, status: 'running', startedAt: at };
    return step;
  });
}
