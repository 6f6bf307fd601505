import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, startEmulators, type Emulators } from './emulators.ts';
import {
  answers,
  freePort,
  isPortFree,
  startService,
  waitFor,
  type Service,
} from './processes.ts';

// The whole product on one machine: emulators, functions, web page, with the
// local builder and runner in place of Cloud Build and Cloud Run.

export type StackOptions = {
  // Where data, work folders and secrets live; `.sigyl` for `npm start`.
  home: string;
  projectId?: string;
  // 'default': the ports in firebase.json (another free one when taken);
  // 'free': any free ports (tests).
  ports?: 'default' | 'free';
  // Keep Firestore and Auth data across restarts.
  persist?: boolean;
  echo?: boolean;
  // Reuse emulators that are already running (tests). Their Auth emulator
  // signs users into its own default project, `projectId` here.
  emulators?: {
    projectId: string;
    firestoreHost: string;
    pubsubHost: string;
    authHost: string;
  };
};

export type Stack = {
  projectId: string;
  urls: {
    web: string;
    api: string;
    firestore: string;
    pubsub: string;
    auth: string;
  };
  stop(): Promise<void>;
};

type PortName =
  | 'firestore'
  | 'pubsub'
  | 'auth'
  | 'api'
  | 'startDeployment'
  | 'onBuildEvent'
  | 'ingestLogs'
  | 'web';

export async function startStack(options: StackOptions): Promise<Stack> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startStackOnce(options);
    } catch (error) {
      // A free port can be taken by another process between the moment it
      // is chosen and the moment it is bound; choosing again fixes that.
      const taken = /in use|EADDRINUSE/.test(String(error));
      if (options.ports !== 'free' || !taken || attempt === 3) throw error;
    }
  }
}

async function startStackOnce(options: StackOptions): Promise<Stack> {
  const projectId = options.projectId ?? 'demo-sigyl';
  const ports = await choosePorts(options.ports ?? 'default');
  const stops: (() => Promise<void>)[] = [];
  const stopAll = async () => {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
  };

  try {
    let emulators: Pick<Emulators, 'firestoreHost' | 'pubsubHost' | 'authHost'>;
    if (options.emulators) {
      emulators = options.emulators;
    } else {
      const started = await startEmulators({
        projectId,
        firestorePort: ports.firestore,
        pubsubPort: ports.pubsub,
        authPort: ports.auth,
        dataDir: options.persist ? join(options.home, 'data') : undefined,
        configDir: options.home,
        echo: options.echo,
      });
      stops.push(() => started.stop());
      emulators = started;
    }

    const web = `http://127.0.0.1:${ports.web}`;
    const functionPorts = {
      api: ports.api,
      startDeployment: ports.startDeployment,
      onBuildEvent: ports.onBuildEvent,
      ingestLogs: ports.ingestLogs,
    };
    const functions = startService(
      'functions',
      process.execPath,
      ['--import', 'tsx', join(ROOT, 'functions/src/local/serve.ts')],
      {
        cwd: ROOT,
        echo: options.echo,
        env: {
          ...process.env,
          SIGYL_MODE: 'local',
          METADATA_SERVER_DETECTION: 'none',
          SIGYL_PROJECT_ID: projectId,
          SIGYL_AUTH_PROJECT_ID: options.emulators?.projectId ?? projectId,
          SIGYL_HOME: options.home,
          SIGYL_WEB_ORIGIN: web,
          SIGYL_FUNCTION_PORTS: JSON.stringify(functionPorts),
          FIRESTORE_EMULATOR_HOST: emulators.firestoreHost,
          PUBSUB_EMULATOR_HOST: emulators.pubsubHost,
          FIREBASE_AUTH_EMULATOR_HOST: emulators.authHost,
        },
      },
    );
    stops.push(() => functions.stop());

    const api = `http://127.0.0.1:${ports.api}`;
    const vite = await startWeb(ports.web, {
      VITE_SIGYL_PROJECT_ID: projectId,
      VITE_SIGYL_API_URL: api,
      VITE_SIGYL_FIRESTORE_EMULATOR: emulators.firestoreHost,
      VITE_SIGYL_AUTH_EMULATOR: `http://${emulators.authHost}`,
      VITE_SIGYL_LOCAL: 'true',
    });
    stops.push(() => vite.close());

    await waitFor(
      'functions',
      async () => functionsReady(functions) && answers(`${api}/healthz`),
      functions,
      60_000,
    );
    await waitFor('web page', () => answers(web), null, 30_000);

    const urls = {
      web,
      api,
      firestore: `http://${emulators.firestoreHost}`,
      pubsub: `http://${emulators.pubsubHost}`,
      auth: `http://${emulators.authHost}`,
    };
    mkdirSync(options.home, { recursive: true });
    writeFileSync(
      join(options.home, 'local.json'),
      JSON.stringify({ projectId, ...urls }, null, 2) + '\n',
    );
    return { projectId, urls, stop: stopAll };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

// The functions host logs `functions ready` once its push subscriptions
// exist, which is when an event can reach it.
function functionsReady(functions: Service): boolean {
  return functions.output.some((line) => line.includes('"functions ready"'));
}

async function startWeb(port: number, env: Record<string, string>) {
  Object.assign(process.env, env);
  const { createServer } = await import('vite');
  const server = await createServer({
    configFile: join(ROOT, 'web/vite.config.ts'),
    root: join(ROOT, 'web'),
    logLevel: 'warn',
    server: { port, host: '127.0.0.1', strictPort: true },
  });
  await server.listen();
  return server;
}

async function choosePorts(
  mode: 'default' | 'free',
): Promise<Record<PortName, number>> {
  const config = JSON.parse(readFileSync(join(ROOT, 'firebase.json'), 'utf8'));
  const emulators = config.emulators as Record<string, { port: number }>;
  const api = emulators.functions!.port;
  const defaults: Record<PortName, number> = {
    firestore: emulators.firestore!.port,
    pubsub: emulators.pubsub!.port,
    auth: emulators.auth!.port,
    api,
    startDeployment: api + 1,
    onBuildEvent: api + 2,
    ingestLogs: api + 3,
    web: emulators.hosting!.port,
  };
  const chosen = {} as Record<PortName, number>;
  for (const name of Object.keys(defaults) as PortName[]) {
    if (mode === 'free') {
      chosen[name] = await freePort();
    } else if (await isPortFree(defaults[name])) {
      chosen[name] = defaults[name];
    } else {
      chosen[name] = await freePort();
      console.warn(
        `Port ${defaults[name]} (${name}) is in use; using ${chosen[name]} instead ` +
          '(see .sigyl/local.json).',
      );
    }
  }
  return chosen;
}
