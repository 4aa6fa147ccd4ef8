import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { PATH_METADATA } from '@nestjs/common/constants.js';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { CronJob } from 'kubernetes-models/batch/v1/CronJob';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import type { IIoK8sApiCoreV1Container } from 'kubernetes-models/v1/Container';
import type { IIoK8sApiCoreV1PodSpec } from 'kubernetes-models/v1/PodSpec';
import { FORCE_CLOSE_AFTER_MS } from '../src/common/connection-drain.js';
import { CONFIG_ENV_NAMES, ConfigError, loadConfig } from '../src/config/app-config.js';
import { HealthController } from '../src/health/health.controller.js';
import { keyPaths } from '../src/security/key-files.js';
import { buildService } from './support/server-process.js';
import { VECTORS_DIR } from './support/vectors.js';
import {
  kubectlAvailable,
  renderKustomization,
  validateObject,
  type KubernetesObject,
} from './support/kubernetes.js';

/** The readiness check's own database timeout (docs/operating.md "Probes"): the probe must wait longer. */
const DATABASE_CHECK_SECONDS = 2;
/** Passes production's JWT_SECRET checks (length and entropy); the value itself is not used. */
const PRODUCTION_LIKE_SECRET = 'q3VZ0x5mJf8Qe2LrT9wYc1NbH6uKdA4sG7pXoE0iWzRtMnBv';

const hasKubectl = kubectlAvailable();
if (!hasKubectl)
  console.warn('kubectl is not installed: the Kubernetes manifest tests are skipped');
const describeWithKubectl = hasKubectl ? describe : describe.skip;

function one(objects: KubernetesObject[], kind: string, name?: string): KubernetesObject {
  const found = objects.filter((o) => o.kind === kind && (!name || o.metadata.name === name));
  if (found.length !== 1)
    throw new Error(`expected one ${kind} ${name ?? ''}, found ${found.length}`);
  return found[0];
}

/** A module's own public key, for the deploy/README.md block that fills the overlay's secrets/. */
const MODULE_A_KEY = join(VECTORS_DIR, 'test-public.pem');

/** deploy/README.md's block that makes the production Secrets' files, exactly as printed. */
function secretMakingBlock(): string {
  const readme = readFileSync('deploy/README.md', 'utf8');
  const block = /```sh\n(: "\$\{OVERLAY:=[\s\S]*?)```/.exec(readme);
  if (!block) throw new Error('deploy/README.md has no ```sh block starting with : "${OVERLAY:=');
  return block[1];
}

/**
 * Whether the service reads a key file at `path` under `keysDir`: its own files, a module's
 * `modules/<module>.pem` or `modules/<module>/<name>.pem`, or `checkpoint-previous/<name>.pem`.
 */
function isLoadedKeyFile(keysDir: string, path: string): boolean {
  const paths = keyPaths(keysDir);
  const own = [paths.publicKey, paths.checkpointKey, paths.privateKey];
  const folders = [paths.moduleKeysDir, paths.previousCheckpointKeysDir].map((dir) =>
    relative(keysDir, dir),
  );
  const [folder, ...rest] = path.split('/');
  if (rest.length === 0) return own.map((p) => relative(keysDir, p)).includes(path);
  const inFolder = rest.length === 1 || (folder === folders[0] && rest.length === 2);
  return folders.includes(folder) && inFolder && path.endsWith('.pem');
}

/** The Secret key of a key file: its path without `modules/`, folders joined by dots. */
function secretKeyOf(path: string): string {
  return path.replace(/^modules\//, '').replaceAll('/', '.');
}

/** GET routes of the probe controller, from the metadata Nest routes by. */
function healthRoutes(): string[] {
  const prefix = String(Reflect.getMetadata(PATH_METADATA, HealthController) ?? '/');
  return Object.getOwnPropertyNames(HealthController.prototype)
    .map((method) =>
      Reflect.getMetadata(
        PATH_METADATA,
        HealthController.prototype[method as keyof HealthController],
      ),
    )
    .filter((path): path is string => typeof path === 'string')
    .map((path) => `/${[prefix, path].join('/')}`.replace(/\/+/g, '/'));
}

function decoded(secret: Secret): Record<string, string> {
  return Object.fromEntries(
    Object.entries(secret.data ?? {}).map(([key, value]) => [
      key,
      Buffer.from(value, 'base64').toString(),
    ]),
  );
}

/** The same checks for every rendering: what the service reads is what the manifests give it. */
function checkRendering(objects: KubernetesObject[]) {
  const deployment = new Deployment(one(objects, 'Deployment') as never);
  const pod = deployment.spec!.template.spec as IIoK8sApiCoreV1PodSpec;
  const container = pod.containers[0] as IIoK8sApiCoreV1Container;
  const configMap = new ConfigMap(one(objects, 'ConfigMap') as never);
  const settings = configMap.data ?? {};
  return { deployment, pod, container, settings };
}

describeWithKubectl('the Kubernetes manifests', () => {
  let base: KubernetesObject[];
  let production: KubernetesObject[];
  let overlayCopy: string;

  beforeAll(() => {
    buildService();
    base = renderKustomization('deploy/kubernetes');
    // The production overlay's Secrets come from files that never enter git: make them with
    // deploy/README.md's block, in a copy of deploy/.
    overlayCopy = mkdtempSync(join(tmpdir(), 'bridge-deploy-'));
    cpSync('deploy', overlayCopy, { recursive: true });
    const overlay = join(overlayCopy, 'kubernetes/overlays/production');
    execFileSync('bash', ['-euo', 'pipefail', '-c', secretMakingBlock()], {
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '/root',
        OVERLAY: overlay,
        MODULE_A_KEY: MODULE_A_KEY,
      },
      stdio: 'ignore',
    });
    production = renderKustomization(overlay);
  });

  /** Both renderings, for the checks that hold for each. */
  const renderings: [string, () => KubernetesObject[]][] = [
    ['base', () => base],
    ['production', () => production],
  ];

  afterAll(() => rmSync(overlayCopy, { recursive: true, force: true }));

  it('validates every object of the base and of the production overlay against its schema', () => {
    for (const object of [...base, ...production]) validateObject(object);
    expect(base.map((o) => o.kind).sort()).toEqual([
      'ConfigMap',
      'CronJob',
      'Deployment',
      'HorizontalPodAutoscaler',
      'NetworkPolicy',
      'NetworkPolicy',
      'PodDisruptionBudget',
      'Secret',
      'Secret',
      'Secret',
      'Service',
      'ServiceAccount',
    ]);
    expect(production.map((o) => o.kind)).toEqual(
      expect.arrayContaining(['Namespace', 'Cluster', 'ScheduledBackup', 'ServiceMonitor']),
    );
  });

  it.each(renderings)(
    '%s: probes hit the Terminus routes on the port the service listens on',
    (_name, objects) => {
      const { container, settings } = checkRendering(objects());
      const routes = healthRoutes();
      expect(routes).toEqual(expect.arrayContaining(['/health/live', '/health/ready']));
      const port = container.ports!.find((p) => p.name === 'http')!;
      expect(port.containerPort).toBe(loadConfig({ PORT: settings.PORT }).port);
      for (const probe of [
        container.startupProbe,
        container.livenessProbe,
        container.readinessProbe,
      ]) {
        expect(routes).toContain(probe!.httpGet!.path);
        expect(probe!.httpGet!.port).toBe('http');
      }
      // Liveness never depends on the database; readiness does, and waits longer than its check.
      expect(container.livenessProbe!.httpGet!.path).toBe('/health/live');
      expect(container.readinessProbe!.httpGet!.path).toBe('/health/ready');
      expect(container.readinessProbe!.timeoutSeconds!).toBeGreaterThan(DATABASE_CHECK_SECONDS);
      const service = new Service(one(objects(), 'Service') as never);
      expect(service.spec!.ports![0].targetPort).toBe('http');
    },
  );

  it.each(renderings)(
    '%s: every environment variable is one the config reads, and the ConfigMap is valid',
    (_name, objects) => {
      const { container, settings } = checkRendering(objects());
      const known: readonly string[] = CONFIG_ENV_NAMES;
      const cronJob = new CronJob(one(objects(), 'CronJob') as never);
      const runner = cronJob.spec!.jobTemplate.spec!.template.spec!.containers[0];
      const names = [
        ...Object.keys(settings),
        ...(container.env ?? []).map((e) => e.name),
        ...(runner.env ?? []).map((e) => e.name),
      ];
      expect(names.filter((name) => !known.includes(name))).toEqual([]);
      // The settings pass the service's own validation (secrets aside) and keep file logs off.
      expect(() =>
        loadConfig({
          ...settings,
          JWT_SECRET: PRODUCTION_LIKE_SECRET,
          DATABASE_URL: 'postgres://db/app',
        }),
      ).not.toThrow();
      expect(settings.NODE_ENV).toBe('production');
      expect(settings.LOG_DIR).toBeUndefined();
    },
  );

  it.each(renderings)(
    '%s: the keys Secret lands at KEYS_DIR under the file names the service loads',
    (_name, objects) => {
      const { pod, container } = checkRendering(objects());
      const keysDir = container.env!.find((e) => e.name === 'KEYS_DIR')!.value!;
      const mount = container.volumeMounts!.find((m) => m.mountPath === keysDir)!;
      expect(mount.readOnly).toBe(true);
      expect(mount.subPath).toBeUndefined(); // subPath mounts never see Secret updates
      const volume = pod.volumes!.find((v) => v.name === mount.name)!;
      const source = volume.projected!.sources![0].secret!;
      const secret = new Secret(one(objects(), 'Secret', source.name) as never);
      const keys = decoded(secret);
      const paths = keyPaths(keysDir);
      const expected = [paths.publicKey, paths.checkpointKey, paths.privateKey].map((p) =>
        relative(keysDir, p),
      );
      const items = source.items!;
      expect(items.map((item) => item.path)).toEqual(expect.arrayContaining(expected));
      for (const item of items) {
        expect(Object.keys(keys)).toContain(item.key);
        expect(isLoadedKeyFile(keysDir, item.path)).toBe(true);
        expect(item.key).toBe(secretKeyOf(item.path));
      }
      // The forms a rotation adds (docs/key-rotation.md), which Secret keys name without folders.
      expect(isLoadedKeyFile(keysDir, 'modules/module-a/2026-12-03.pem')).toBe(true);
      expect(secretKeyOf('modules/module-a/2026-12-03.pem')).toBe('module-a.2026-12-03.pem');
      expect(isLoadedKeyFile(keysDir, 'checkpoint-previous/2026-12-03.pem')).toBe(true);
      expect(isLoadedKeyFile(keysDir, 'modules/module-a/old/2026.pem')).toBe(false);
      // The pod's fsGroup can read the files, nobody else.
      expect(volume.projected!.defaultMode).toBe(0o440);
      expect(pod.securityContext!.fsGroup).toBe(pod.securityContext!.runAsGroup);
    },
  );

  it('base: the placeholders are refused at start, so the base never runs with them', () => {
    const { settings } = checkRendering(base);
    const jwt = decoded(
      new Secret(
        one(
          base,
          'Secret',
          base.find((o) => o.metadata.name.startsWith('core-bucket-bridge-jwt'))!.metadata.name,
        ) as never,
      ),
    );
    const database = decoded(
      new Secret(
        one(
          base,
          'Secret',
          base.find((o) => o.metadata.name.startsWith('core-bucket-bridge-database'))!.metadata
            .name,
        ) as never,
      ),
    );
    expect(() =>
      loadConfig({ ...settings, JWT_SECRET: jwt.JWT_SECRET, DATABASE_URL: database.uri }),
    ).toThrow(ConfigError);
    const keys = decoded(new Secret(one(base, 'Secret', 'core-bucket-bridge-keys') as never));
    expect(Object.values(keys).every((value) => !value.includes('BEGIN'))).toBe(true);
  });

  it('production: real keys from keys:generate, DATABASE_URL from CloudNativePG, one primary', () => {
    const { container } = checkRendering(production);
    const keys = decoded(new Secret(one(production, 'Secret', 'core-bucket-bridge-keys') as never));
    expect(keys['public.pem']).toContain('BEGIN PUBLIC KEY');
    expect(keys['checkpoint.pem']).toContain('BEGIN PRIVATE KEY');
    expect(keys['module-a.pem']).toBe(readFileSync(MODULE_A_KEY, 'utf8'));
    const jwtName = container.env!.find((e) => e.name === 'JWT_SECRET')!.valueFrom!.secretKeyRef!
      .name!;
    const jwt = decoded(new Secret(one(production, 'Secret', jwtName) as never));
    expect(jwt.JWT_SECRET.length).toBeGreaterThanOrEqual(32);
    // Rotation's verify-only secrets: the same Secret, empty until a rotation fills it.
    expect(
      container.env!.find((e) => e.name === 'JWT_VERIFY_ONLY_SECRETS')!.valueFrom!.secretKeyRef,
    ).toEqual({ name: jwtName, key: 'JWT_VERIFY_ONLY_SECRETS', optional: true });
    expect(
      loadConfig({ JWT_VERIFY_ONLY_SECRETS: jwt.JWT_VERIFY_ONLY_SECRETS }).jwtVerifyOnlySecrets,
    ).toEqual([]);
    const database = container.env!.find((e) => e.name === 'DATABASE_URL')!.valueFrom!
      .secretKeyRef!;
    const cluster = one(production, 'Cluster');
    expect(database).toEqual({ name: `${cluster.metadata.name}-app`, key: 'uri' });
    expect(production.some((o) => o.metadata.name.startsWith('core-bucket-bridge-database'))).toBe(
      false,
    );
    expect(
      production.every(
        (o) => o.kind === 'Namespace' || o.metadata.namespace === 'core-bucket-bridge',
      ),
    ).toBe(true);
  });

  it.each(renderings)(
    '%s: the termination grace period outlasts preStop, readiness grace and drain',
    (_name, objects) => {
      const { pod, container, settings } = checkRendering(objects());
      const preStop = container.lifecycle!.preStop!.sleep!.seconds;
      const readinessGrace = loadConfig({
        ...settings,
        JWT_SECRET: PRODUCTION_LIKE_SECRET,
      }).shutdownGraceSeconds;
      const drain = FORCE_CLOSE_AFTER_MS / 1000;
      expect(preStop).toBeGreaterThan(0);
      expect(readinessGrace).toBeGreaterThan(0);
      expect(pod.terminationGracePeriodSeconds!).toBeGreaterThan(preStop + readinessGrace + drain);
      // The comment above terminationGracePeriodSeconds states the same figures.
      const comment = readFileSync('deploy/kubernetes/base/deployment.yaml', 'utf8');
      for (const figure of [preStop, readinessGrace, drain, pod.terminationGracePeriodSeconds!])
        expect(comment).toMatch(new RegExp(`\\b${figure} s\\b`));
    },
  );

  it.each(renderings)(
    '%s: replicas, rolling update, hardening, resources, spread, disruption and autoscaling',
    (_name, objects) => {
      const { deployment, pod, container } = checkRendering(objects());
      const hpa = new HorizontalPodAutoscaler(one(objects(), 'HorizontalPodAutoscaler') as never);
      expect(deployment.spec!.replicas!).toBeGreaterThanOrEqual(2);
      expect(hpa.spec!.minReplicas!).toBeGreaterThanOrEqual(2);
      expect(hpa.spec!.minReplicas!).toBeLessThanOrEqual(deployment.spec!.replicas!);
      expect(deployment.spec!.strategy!.rollingUpdate!.maxUnavailable).toBe(0);
      const dockerUser = /^USER (\d+):(\d+)$/m.exec(readFileSync('Dockerfile', 'utf8'))!;
      const cronJob = new CronJob(one(objects(), 'CronJob') as never);
      const runnerPod = cronJob.spec!.jobTemplate.spec!.template.spec!;
      for (const [spec, box] of [
        [pod, container],
        [runnerPod, runnerPod.containers[0]],
      ] as const) {
        expect(spec.securityContext).toMatchObject({
          runAsNonRoot: true,
          runAsUser: Number(dockerUser[1]),
          runAsGroup: Number(dockerUser[2]),
        });
        expect(box.securityContext).toMatchObject({
          allowPrivilegeEscalation: false,
          readOnlyRootFilesystem: true,
          capabilities: { drop: ['ALL'] },
        });
        expect(box.resources!.requests).toMatchObject({
          cpu: expect.any(String),
          memory: expect.any(String),
        });
        expect(box.resources!.limits).toMatchObject({ memory: expect.any(String) });
      }
      expect(pod.topologySpreadConstraints!.map((c) => c.topologyKey)).toEqual(
        expect.arrayContaining(['kubernetes.io/hostname']),
      );
      expect(one(objects(), 'PodDisruptionBudget')).toMatchObject({ spec: { maxUnavailable: 1 } });
    },
  );

  it('the network policy lets in the HTTP port only', () => {
    const policy = new NetworkPolicy(one(base, 'NetworkPolicy', 'core-bucket-bridge') as never);
    expect(policy.spec!.ingress).toEqual([{ ports: [{ port: 'http', protocol: 'TCP' }] }]);
    const runnerPolicy = new NetworkPolicy(
      one(base, 'NetworkPolicy', 'core-bucket-bridge-automation') as never,
    );
    expect(runnerPolicy.spec!.ingress).toEqual([]);
  });

  it('the CronJob runs the automation runner once on several nodes with flags the CLI has', () => {
    const cronJob = new CronJob(one(base, 'CronJob') as never);
    const runner = cronJob.spec!.jobTemplate.spec!.template.spec!.containers[0];
    expect(runner.command).toEqual(['node', 'dist/src/cli/automation.cli.js']);
    const args = runner.args!;
    expect(args).toEqual(expect.arrayContaining(['--once', '--nodes']));
    expect(Number(args[args.indexOf('--nodes') + 1])).toBeGreaterThan(1);
    const help = execFileSync(process.execPath, ['dist/src/cli/automation.cli.js', '--help'], {
      encoding: 'utf8',
    });
    for (const flag of args.filter((arg) => arg.startsWith('--')))
      expect(help).toContain(`  ${flag} `);
    // The reports folder is writable under a read-only root filesystem.
    const reports = args[args.indexOf('--reports') + 1];
    const mount = runner.volumeMounts!.find((m) => m.mountPath === reports)!;
    expect(
      cronJob.spec!.jobTemplate.spec!.template.spec!.volumes!.find((v) => v.name === mount.name)!
        .emptyDir,
    ).toBeDefined();
  });
});
