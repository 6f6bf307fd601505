// The functions Sigyl deploys, registered by name. Each name is also the
// function's folder, its Terraform key and its entry point.
import { cloudEvent, http } from '@google-cloud/functions-framework';
import { api } from './api/index.ts';
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

http(FUNCTIONS.api, api);
cloudEvent(FUNCTIONS.startDeployment, startDeployment);
cloudEvent(FUNCTIONS.onBuildEvent, onBuildEvent);
cloudEvent(FUNCTIONS.ingestLogs, ingestLogs);
http(FUNCTIONS.sweepDeployments, sweepDeployments);
