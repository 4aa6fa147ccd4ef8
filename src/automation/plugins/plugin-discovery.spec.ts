import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { Test } from '@nestjs/testing';
import { AUTOMATION_HOST, type AutomationHost } from '../automation-host.js';
import { AutomationCoreModule } from '../automation-core.module.js';
import { FixedTokens } from '../../client/bridge-tokens.js';
import { JobCatalog } from '../jobs/job-catalog.js';
import { JobExecutor } from '../engine/job-executor.js';
import { loadPluginClasses, PluginLoadError } from './plugin-loader.js';
import { SigningKey } from '../../client/signing-key.js';

const PLUGIN_API = join(process.cwd(), 'src', 'automation', 'plugin-api.js');

/**
 * A temporary plugins folder holding `files`, as an operator would drop them in. Outside the
 * project, its own package.json makes its files ES modules like those of `plugins/`.
 */
function pluginsFolder(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'bridge-plugins-'));
  writeFileSync(join(dir, 'package.json'), '{"type":"module"}');
  for (const [name, source] of Object.entries(files)) writeFileSync(join(dir, name), source);
  return dir;
}

function importDecorator(dir: string): string {
  return `import { AutomationPlugin } from '${relative(dir, PLUGIN_API)}';`;
}

describe('plugin discovery', () => {
  it('finds a plugin file dropped into a plugins folder and runs it with its job params', async () => {
    const dir = pluginsFolder({ 'notes.txt': 'not a plugin' });
    writeFileSync(
      join(dir, 'echo.plugin.ts'),
      `${importDecorator(dir)}
      @AutomationPlugin({ name: 'echo' })
      export class EchoPlugin {
        run(context: { nodeId: string; params: { say?: string } }) {
          return { node: context.nodeId, said: context.params.say ?? null };
        }
      }\n`,
    );
    const jobFile = join(dir, 'automation.json');
    writeFileSync(
      jobFile,
      JSON.stringify([
        {
          name: 'echo-job',
          trigger: { type: 'intervalMinutes', value: 5 },
          actions: [{ type: 'run_plugin', plugin_name: 'echo', params: { say: 'hello' } }],
        },
      ]),
    );
    const host: AutomationHost = {
      nodeId: 'node-042',
      bridgeUrl: () => 'http://127.0.0.1:9',
      tokens: new FixedTokens('unused'),
      signingKey: new SigningKey(join(dir, 'private.pem')),
    };
    const moduleRef = await Test.createTestingModule({
      imports: [
        AutomationCoreModule.forRoot({
          pluginDirs: [dir],
          jobFile,
          host: { provide: AUTOMATION_HOST, useValue: host },
        }),
      ],
    }).compile();
    await moduleRef.init();

    const job = moduleRef.get(JobCatalog).get('echo-job')!;
    const result = await moduleRef.get(JobExecutor).execute(job);

    expect(result).toMatchObject({
      outcome: 'succeeded',
      error: null,
      results: { echo: { node: 'node-042', said: 'hello' } },
    });
    await moduleRef.close();
  });

  it('names every plugin file that cannot be used', async () => {
    const dir = pluginsFolder({
      'untagged.plugin.ts': 'export class Untagged { run() {} }\n',
      'broken.plugin.ts': 'throw new Error("boom at import");\nexport {};\n',
    });
    const error = await loadPluginClasses([dir]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PluginLoadError);
    expect((error as PluginLoadError).problems).toEqual([
      expect.stringMatching(/broken\.plugin\.ts cannot be imported: boom at import/),
      expect.stringMatching(/untagged\.plugin\.ts exports no class tagged @AutomationPlugin/),
    ]);
  });
});
