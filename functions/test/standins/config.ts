import { tmpdir } from 'node:os';
import { loadConfig, type Config } from '../../src/config.ts';

// Cloud mode settings as Terraform would set them, for tests that run the
// cloud adapters against the stand-ins.
export function cloudTestConfig(projectId = 'demo-sigyl'): Config {
  return loadConfig({
    SIGYL_MODE: 'cloud',
    SIGYL_PROJECT_ID: projectId,
    SIGYL_HOME: tmpdir(),
    SIGYL_REGION: 'europe-west1',
    SIGYL_ARTIFACT_REPOSITORY: 'mcp-images',
    SIGYL_BUILD_SERVICE_ACCOUNT: `builder@${projectId}.iam.gserviceaccount.com`,
    SIGYL_RUNTIME_SERVICE_ACCOUNT: `runtime@${projectId}.iam.gserviceaccount.com`,
    SIGYL_SOURCE_BUCKET: `${projectId}-sources`,
  });
}
