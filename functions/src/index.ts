// The functions Sigyl deploys, registered by name. Each name is also the
// function's folder, its Terraform key and its entry point.
import { cloudEvent, http } from '@google-cloud/functions-framework';
import { api } from './api/index.ts';
import { config } from './config.ts';
import { ingestLogs } from './ingestLogs/index.ts';
import { onBuildEvent } from './onBuildEvent/index.ts';
import { startDeployment } from './startDeployment/index.ts';
import { sweepDeployments } from './sweepDeployments/index.ts';

export const FUNCTIONS = {
  api: 'api',
  startDeployment: 'startDeployment',
  onBuildEvent: 'onBuildEvent',
  ingestLogs: 'ingestLogs',
  sweepDeployments: 'sweepDeployments',
} as const;

// In Google Cloud a missing setting stops the instance at start, with the
// setting's name, rather than failing the first deployment.
if (process.env.SIGYL_MODE === 'cloud') config();

http(FUNCTIONS.api, api);
cloudEvent(FUNCTIONS.startDeployment, startDeployment);
cloudEvent(FUNCTIONS.onBuildEvent, onBuildEvent);
cloudEvent(FUNCTIONS.ingestLogs, ingestLogs);
http(FUNCTIONS.sweepDeployments, sweepDeployments);
