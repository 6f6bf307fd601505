import { parse } from '@cdktf/hcl2json';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { TOPICS } from '../types/src/index.ts';

// terraform is not installed here, so these tests read the HCL as JSON and
// check what `terraform validate` and a plan would not: that the names in
// the Terraform match the names in the code, and that nobody gets more
// access than they need.

type Block = Record<string, unknown>;
type Config = {
  resource: Record<string, Record<string, Block>>;
  data: Record<string, Record<string, Block>>;
  variable: Record<string, Block>;
  output: Record<string, Block>;
  locals: Block;
  terraform: Block[];
};

const dir = 'terraform';
let tf: Config;

beforeAll(async () => {
  tf = {
    resource: {},
    data: {},
    variable: {},
    output: {},
    locals: {},
    terraform: [],
  };
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.tf'))) {
    const json = (await parse(
      file,
      readFileSync(join(dir, file), 'utf8'),
    )) as Record<string, unknown>;
    for (const kind of ['resource', 'data'] as const) {
      const types = (json[kind] ?? {}) as Record<
        string,
        Record<string, Block[]>
      >;
      for (const [type, byName] of Object.entries(types)) {
        for (const [name, [block]] of Object.entries(byName)) {
          (tf[kind][type] ??= {})[name] = block!;
        }
      }
    }
    for (const kind of ['variable', 'output'] as const) {
      const byName = (json[kind] ?? {}) as Record<string, Block[]>;
      for (const [name, [block]] of Object.entries(byName))
        tf[kind][name] = block!;
    }
    for (const locals of (json.locals ?? []) as Block[])
      Object.assign(tf.locals, locals);
    tf.terraform.push(...((json.terraform ?? []) as Block[]));
  }
});

function resource(type: string, name: string): Block {
  const block = tf.resource[type]?.[name];
  if (!block) throw new Error(`no ${type}.${name} in ${dir}/`);
  return block;
}

function only(blocks: unknown): Block {
  return (blocks as Block[])[0]!;
}

// The functions registered in functions/src/index.ts, by kind.
function registeredFunctions() {
  const source = readFileSync('functions/src/index.ts', 'utf8');
  const names = Object.fromEntries(
    [
      ...(source.match(/FUNCTIONS = \{([^}]*)\}/)?.[1] ?? '').matchAll(
        /(\w+): '([^']+)'/g,
      ),
    ].map(([, key, value]) => [key!, value!]),
  );
  const registrations = [
    ...source.matchAll(
      /\b(http|cloudEvent)\(\s*(?:FUNCTIONS\.(\w+)|'([^']+)')/g,
    ),
  ].map(([, kind, key, literal]) => ({
    kind: kind as 'http' | 'cloudEvent',
    name: literal ?? names[key!] ?? key!,
  }));
  return registrations;
}

// Which topic each event function listens to: the contract of the design.
const TRIGGERS: Record<string, keyof typeof TOPICS> = {
  startDeployment: 'deploymentRequests',
  onBuildEvent: 'cloudBuilds',
  ingestLogs: 'deploymentLogs',
};

type FunctionSettings = { topic: string | null };

describe('names shared with the code', () => {
  it('creates exactly the topics named in TOPICS', () => {
    expect(tf.locals.topics).toEqual(TOPICS);
    expect(resource('google_pubsub_topic', 'main')).toMatchObject({
      for_each: '${local.topics}',
      name: '${each.value}',
    });
  });

  it('gives every topic a dead-letter topic and a subscription that keeps it', () => {
    expect(resource('google_pubsub_topic', 'dead_letter').for_each).toBe(
      '${local.topics}',
    );
    expect(resource('google_pubsub_subscription', 'dead_letter').for_each).toBe(
      '${local.topics}',
    );
    const delivery = resource('terraform_data', 'event_delivery');
    expect(delivery.for_each).toBe('${local.event_functions}');
    const command = only((delivery.provisioner as Block)['local-exec'])
      .command as string;
    expect(command).toContain(
      '--dead-letter-topic="${google_pubsub_topic.dead_letter[each.value.topic].id}"',
    );
    expect(command).toContain('--max-retry-delay');
  });

  it('deploys one function per registration in functions/src/index.ts', () => {
    const registered = registeredFunctions();
    expect(registered.length).toBeGreaterThan(0);
    const functions = tf.locals.functions as Record<string, FunctionSettings>;
    expect(Object.keys(functions).sort()).toEqual(
      registered.map((r) => r.name).sort(),
    );

    const fn = resource('google_cloudfunctions2_function', 'main');
    expect(fn).toMatchObject({
      for_each: '${local.functions}',
      name: '${each.key}',
    });
    expect(only(fn.build_config)).toMatchObject({
      runtime: 'nodejs22',
      entry_point: '${each.key}',
    });
  });

  it('triggers every event function from its own topic, and no HTTP function', () => {
    const functions = tf.locals.functions as Record<string, FunctionSettings>;
    for (const { kind, name } of registeredFunctions()) {
      if (kind === 'cloudEvent') {
        expect(TRIGGERS[name], `the topic of ${name}`).toBeDefined();
        expect(functions[name]?.topic, name).toBe(TRIGGERS[name]);
      } else {
        expect(functions[name]?.topic, name).toBeNull();
      }
    }

    const trigger = (
      resource('google_cloudfunctions2_function', 'main').dynamic as Block
    ).event_trigger as Block[];
    expect(only(trigger).for_each).toBe(
      '${each.value.topic == null ? [] : [each.value.topic]}',
    );
    expect(only(only(trigger).content)).toMatchObject({
      event_type: 'google.cloud.pubsub.topic.v1.messagePublished',
      pubsub_topic: '${google_pubsub_topic.main[event_trigger.value].id}',
      retry_policy: 'RETRY_POLICY_RETRY',
    });
  });

  it('sets every SIGYL_ variable the functions read in cloud mode', () => {
    const config = readFileSync('functions/src/config.ts', 'utf8');
    const read = new Set(
      [...config.matchAll(/\b(SIGYL_[A-Z_]+)\b/g)].map(([, name]) => name!),
    );
    read.delete('SIGYL_HOME'); // where local mode keeps its files
    const environment = tf.locals.function_environment as Record<
      string,
      string
    >;
    expect(Object.keys(environment)).toEqual(expect.arrayContaining([...read]));
    expect(environment.SIGYL_MODE).toBe('cloud');
    expect(
      only(resource('google_cloudfunctions2_function', 'main').service_config),
    ).toMatchObject({ environment_variables: '${local.function_environment}' });
  });

  it('calls sweepDeployments on a schedule, with an OIDC token', () => {
    const target = only(
      resource('google_cloud_scheduler_job', 'sweep_deployments').http_target,
    );
    const url =
      '${google_cloudfunctions2_function.main["sweepDeployments"].url}';
    expect(target.uri).toBe(url);
    expect(only(target.oidc_token)).toMatchObject({ audience: url });
  });
});

describe('logs', () => {
  const sink = () => resource('google_logging_project_sink', 'deployment_logs');

  it('sends build logs and the logs of mcp- services to deployment-logs', () => {
    expect(sink().destination).toBe(
      'pubsub.googleapis.com/${google_pubsub_topic.main["deploymentLogs"].id}',
    );
    expect(sink().filter).toBe('${local.deployment_log_filter}');
    const filter = tf.locals.deployment_log_filter as string;
    expect(filter).toContain('resource.type="build"');
    expect(filter).toContain(
      'logName="projects/${var.project_id}/logs/cloudbuild"',
    );
    expect(filter).toContain('resource.type="cloud_run_revision"');
    expect(filter).toContain('resource.labels.service_name=~"^mcp-"');
  });

  it("lets the sink's writer identity publish to that topic", () => {
    expect(sink().unique_writer_identity).toBe(true);
    const grants = Object.values(
      tf.resource.google_pubsub_topic_iam_member ?? {},
    );
    expect(grants).toContainEqual({
      topic: '${google_pubsub_topic.main["deploymentLogs"].name}',
      role: 'roles/pubsub.publisher',
      member: '${google_logging_project_sink.deployment_logs.writer_identity}',
    });
  });

  it('expires log chunks by expireAt and keeps that field out of indexes', () => {
    expect(resource('google_firestore_field', 'log_expiry')).toMatchObject({
      collection: 'logs',
      field: 'expireAt',
      ttl_config: [{}],
      index_config: [{}],
    });
    expect(tf.locals.function_environment).toMatchObject({
      SIGYL_LOG_RETENTION_DAYS: '${tostring(var.log_retention_days)}',
    });
  });
});

describe('access', () => {
  it('grants owner or editor to nobody', () => {
    const text = JSON.stringify(tf);
    expect(text).not.toMatch(/roles\/(owner|editor)\b/);
  });

  it('gives the runtime account of deployed servers no role at all', () => {
    const accounts = JSON.stringify(tf.locals.service_accounts);
    expect(accounts).not.toContain('google_service_account.runtime');
    expect(Object.keys(tf.locals.project_roles as object)).not.toContain(
      'runtime',
    );
    for (const [type, byName] of Object.entries(tf.resource)) {
      for (const [name, block] of Object.entries(byName)) {
        expect(String(block.member ?? ''), `${type}.${name}`).not.toContain(
          'google_service_account.runtime',
        );
      }
    }
  });

  it('lets only the API be called without an identity', () => {
    const public_ = Object.entries(tf.resource)
      .flatMap(([type, byName]) =>
        Object.entries(byName).map(([name, block]) => ({
          name: `${type}.${name}`,
          block,
        })),
      )
      .filter(({ block }) =>
        /allUsers|allAuthenticatedUsers/.test(String(block.member)),
      );
    expect(public_.map((p) => p.name)).toEqual([
      'google_cloud_run_service_iam_member.api_public',
    ]);
    expect(public_[0]!.block.service).toBe(
      '${google_cloudfunctions2_function.main["api"].service_config[0].service}',
    );
  });
});

describe('references', () => {
  // What `terraform validate` would catch first: a name used but not declared.
  it('names only declared resources, data sources, variables and locals', () => {
    const text = JSON.stringify(tf);
    const undeclared = new Set<string>();
    for (const [, type, name] of text.matchAll(
      /(?<![\w.])((?:google|archive)_\w+|terraform_data)\.(\w+)/g,
    )) {
      if (!tf.resource[type!]?.[name!]) undeclared.add(`${type}.${name}`);
    }
    for (const [, type, name] of text.matchAll(/\bdata\.(\w+)\.(\w+)/g)) {
      if (!tf.data[type!]?.[name!]) undeclared.add(`data.${type}.${name}`);
    }
    for (const [, name] of text.matchAll(/\bvar\.(\w+)/g)) {
      if (!tf.variable[name!]) undeclared.add(`var.${name}`);
    }
    for (const [, name] of text.matchAll(/\blocal\.(\w+)/g)) {
      if (!(name! in tf.locals)) undeclared.add(`local.${name}`);
    }
    expect([...undeclared]).toEqual([]);
  });
});

describe('variables and providers', () => {
  it('gives every variable a type and a description', () => {
    expect(Object.keys(tf.variable).length).toBeGreaterThan(0);
    for (const [name, variable] of Object.entries(tf.variable)) {
      expect(variable.type, name).toBeTruthy();
      expect(String(variable.description ?? '').length, name).toBeGreaterThan(
        10,
      );
    }
  });

  it('pins every provider to a range', () => {
    const providers = only(only(tf.terraform).required_providers) as Record<
      string,
      { version: string }
    >;
    expect(Object.keys(providers)).toEqual(
      expect.arrayContaining(['google', 'google-beta', 'archive']),
    );
    for (const [name, { version }] of Object.entries(providers)) {
      expect(version, name).toMatch(/<|~>/);
    }
  });

  it('names what a user needs next in outputs', () => {
    expect(Object.keys(tf.output)).toEqual(
      expect.arrayContaining([
        'api_url',
        'web_url',
        'web_build_env',
        'hosting_site_id',
      ]),
    );
    for (const [name, output] of Object.entries(tf.output)) {
      expect(output.description, name).toBeTruthy();
    }
  });
});
