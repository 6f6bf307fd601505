// The functions host process that `npm start` runs: every function on its
// own port, settings from the environment, a clean stop on SIGINT/SIGTERM
// (builds and servers included).
import { errorFields, log } from '../log.ts';
import { startFunctionsHost, type HostPorts } from './host.ts';

const ports = JSON.parse(process.env.SIGYL_FUNCTION_PORTS ?? '{}') as HostPorts;

try {
  const host = await startFunctionsHost(ports);
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await host.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
  log('INFO', 'functions ready', { urls: host.urls });
} catch (error) {
  log('ERROR', 'functions host failed to start', errorFields(error));
  process.exit(1);
}
