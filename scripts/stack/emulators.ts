import {
  existsSync,
  mkdirSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { answers, startService, waitFor, type Service } from './processes.ts';

export const ROOT = resolve(import.meta.dirname, '../..');

const CLI_PLATFORM = '/usr/lib/google-cloud-sdk/platform';

// The emulator jars come from the Google Cloud CLI where it is installed, or
// from SIGYL_EMULATORS_DIR (a folder holding both jars) everywhere else.
export function findEmulatorJars(): { firestore: string; pubsub: string } {
  const dir = process.env.SIGYL_EMULATORS_DIR;
  const candidates = dir
    ? [{ firestore: resolve(dir), pubsub: resolve(dir) }]
    : [
        {
          firestore: join(CLI_PLATFORM, 'cloud-firestore-emulator'),
          pubsub: join(CLI_PLATFORM, 'pubsub-emulator/lib'),
        },
      ];
  for (const folders of candidates) {
    const firestore = join(folders.firestore, 'cloud-firestore-emulator.jar');
    const pubsub = findJar(folders.pubsub, /^cloud-pubsub-emulator-.*\.jar$/);
    if (existsSync(firestore) && pubsub) return { firestore, pubsub };
  }
  throw new Error(
    dir
      ? `SIGYL_EMULATORS_DIR=${dir} does not hold cloud-firestore-emulator.jar ` +
          `and cloud-pubsub-emulator-*.jar.`
      : 'The Firestore and Pub/Sub emulators were not found. Install them with ' +
          '`apt-get install google-cloud-cli-firestore-emulator ' +
          'google-cloud-cli-pubsub-emulator`, or set SIGYL_EMULATORS_DIR to a ' +
          'folder holding cloud-firestore-emulator.jar and ' +
          'cloud-pubsub-emulator-*.jar (this project uses ../shared/emulators ' +
          'in CI).',
  );
}

function findJar(folder: string, pattern: RegExp): string | null {
  if (!existsSync(folder)) return null;
  const name = readdirSync(folder).find((file) => pattern.test(file));
  return name ? join(folder, name) : null;
}

export function checkJava() {
  if (!process.env.PATH?.split(':').some((p) => existsSync(join(p, 'java')))) {
    throw new Error(
      'Java 17 or newer is needed for the Firestore and Pub/Sub emulators: ' +
        '`apt-get install openjdk-17-jre-headless`.',
    );
  }
}

export type EmulatorOptions = {
  projectId: string;
  firestorePort: number;
  pubsubPort: number;
  authPort: number;
  // Where Firestore and Auth data is exported on stop and imported on start;
  // no persistence when absent.
  dataDir?: string;
  echo?: boolean;
  // Tests use a project per file; the Auth emulator then accepts any project.
  singleProject?: boolean;
  // Where the Auth emulator's generated firebase.json goes.
  configDir?: string;
};

export type Emulators = {
  firestoreHost: string;
  pubsubHost: string;
  authHost: string;
  stop(): Promise<void>;
};

export async function startEmulators(
  opts: EmulatorOptions,
): Promise<Emulators> {
  checkJava();
  const jars = findEmulatorJars();
  const services: Service[] = [];
  const stopAll = async () => {
    await Promise.all(services.map((s) => s.stop()));
  };
  try {
    const firestoreData = opts.dataDir && join(opts.dataDir, 'firestore');
    const latestExport = firestoreData && newestExport(firestoreData);
    const imported = latestExport
      ? [
          `--import-data=${latestExport}/${basename(latestExport)}.overall_export_metadata`,
        ]
      : [];
    const firestore = startService(
      'firestore',
      'java',
      [
        '-Duser.language=en',
        '-cp',
        jars.firestore,
        'com.google.cloud.datastore.emulator.firestore.CloudFirestore',
        'start',
        '--host=127.0.0.1',
        `--port=${opts.firestorePort}`,
        `--rules=${join(ROOT, 'firestore.rules')}`,
        `--project_id=${opts.projectId}`,
        ...imported,
      ],
      { echo: opts.echo },
    );
    services.push(firestore);
    const pubsub = startService(
      'pubsub',
      'java',
      ['-jar', jars.pubsub, '--host=127.0.0.1', `--port=${opts.pubsubPort}`],
      { echo: opts.echo },
    );
    services.push(pubsub);
    const auth = startAuthEmulator(opts);
    services.push(auth);

    const firestoreHost = `127.0.0.1:${opts.firestorePort}`;
    const pubsubHost = `127.0.0.1:${opts.pubsubPort}`;
    const authHost = `127.0.0.1:${opts.authPort}`;
    await Promise.all([
      waitFor(
        'Firestore emulator',
        () => answers(`http://${firestoreHost}/`),
        firestore,
      ),
      waitFor(
        'Pub/Sub emulator',
        () =>
          answers(`http://${pubsubHost}/v1/projects/${opts.projectId}/topics`),
        pubsub,
      ),
      waitFor('Auth emulator', () => answers(`http://${authHost}/`), auth),
    ]);

    return {
      firestoreHost,
      pubsubHost,
      authHost,
      async stop() {
        // SIGINT lets firebase-tools export the Auth data before it exits.
        auth.child.kill('SIGINT');
        const authExited = Promise.race([
          new Promise((r) => auth.child.once('exit', r)),
          new Promise((r) => setTimeout(r, 8000)),
        ]);
        if (firestoreData) {
          await exportFirestore(firestoreHost, opts.projectId, firestoreData);
        }
        await authExited;
        await stopAll();
      },
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

function startAuthEmulator(opts: EmulatorOptions): Service {
  const configDir = join(
    opts.configDir ?? opts.dataDir ?? join(ROOT, '.sigyl/tmp'),
    'emulator-config',
  );
  mkdirSync(configDir, { recursive: true });
  const hubDir = join(configDir, 'tmp');
  mkdirSync(hubDir, { recursive: true });
  const config = join(configDir, `firebase-${opts.authPort}.json`);
  writeFileSync(
    config,
    JSON.stringify({
      emulators: {
        auth: { host: '127.0.0.1', port: opts.authPort },
        ui: { enabled: false },
        hub: { host: '127.0.0.1', port: 0 },
        logging: { host: '127.0.0.1', port: 0 },
        singleProjectMode: opts.singleProject ?? true,
      },
    }),
  );
  const authData = opts.dataDir && join(opts.dataDir, 'auth-export');
  const persistence = authData
    ? [
        ...(existsSync(join(authData, 'firebase-export-metadata.json'))
          ? ['--import', authData]
          : []),
        '--export-on-exit',
        authData,
      ]
    : [];
  return startService(
    'auth',
    join(ROOT, 'node_modules/.bin/firebase'),
    [
      'emulators:start',
      '--only',
      'auth',
      '--project',
      opts.projectId,
      '--config',
      config,
      ...persistence,
    ],
    {
      echo: opts.echo,
      cwd: configDir,
      // firebase-tools finds its own running emulators through
      // `<tmpdir>/hub-<project>.json`: a temp folder of this stack's own keeps
      // two copies on one machine from saving each other's data.
      env: { ...process.env, TMPDIR: hubDir },
    },
  );
}

// The emulator writes each export into a new `firestore_export_<time>` folder.
function newestExport(dir: string): string | null {
  if (!existsSync(dir)) return null;
  const name = readdirSync(dir)
    .filter((entry) => entry.startsWith('firestore_export_'))
    .sort()
    .at(-1);
  return name ? join(dir, name) : null;
}

async function exportFirestore(host: string, projectId: string, dir: string) {
  mkdirSync(dir, { recursive: true });
  const response = await fetch(
    `http://${host}/emulator/v1/projects/${projectId}:export`,
    {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        database: `projects/${projectId}/databases/(default)`,
        export_directory: dir,
      }),
    },
  );
  if (!response.ok) {
    throw new Error(
      `Firestore export failed: ${response.status} ${await response.text()}`,
    );
  }
  const keep = newestExport(dir);
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    if (path !== keep) rmSync(path, { recursive: true, force: true });
  }
}
