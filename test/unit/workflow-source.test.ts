import path from 'node:path';
import { loadConfig } from '../../config';
import { BUNDLE_FILE, WorkflowBundleMissingError, builtBundlePath, chooseWorkflowSource } from '../../workers/workflow-source';

const workflowsPath = '/app/workflows/index.ts';
const built = '/app/dist/workflow-bundle.js';
const existing = (...files: string[]) => (file: string) => files.includes(file);

describe('where the worker takes its workflow code from', () => {
  it('takes the bundle the caller names before the configured one and the built one', () => {
    const source = chooseWorkflowSource({ explicit: '/tmp/tests/bundle.js', configured: '/etc/kontrol/bundle.js', built, workflowsPath, exists: existing('/tmp/tests/bundle.js', '/etc/kontrol/bundle.js', built) });
    expect(source).toEqual({ kind: 'bundle', codePath: '/tmp/tests/bundle.js', from: 'option' });
  });

  it('takes WORKFLOW_BUNDLE_PATH, resolved against the working directory, before the built bundle', () => {
    const source = chooseWorkflowSource({ configured: 'bundles/workflows.js', built, workflowsPath, exists: existing(path.resolve('bundles/workflows.js'), built) });
    expect(source).toEqual({ kind: 'bundle', codePath: path.resolve('bundles/workflows.js'), from: 'WORKFLOW_BUNDLE_PATH' });
  });

  it('takes the bundle `npm run build` left beside the compiled code when nothing is named', () => {
    expect(chooseWorkflowSource({ built, workflowsPath, exists: existing(built) })).toEqual({ kind: 'bundle', codePath: built, from: 'build' });
  });

  it('bundles the sources at start when there is no bundle to take', () => {
    expect(chooseWorkflowSource({ built, workflowsPath, exists: existing() })).toEqual({ kind: 'sources', workflowsPath });
    expect(chooseWorkflowSource({ workflowsPath, exists: existing(built) })).toEqual({ kind: 'sources', workflowsPath });
  });

  it('refuses a named bundle that is missing instead of quietly bundling the sources', () => {
    expect(() => chooseWorkflowSource({ configured: '/nowhere/bundle.js', built, workflowsPath, exists: existing(built) })).toThrow(
      new WorkflowBundleMissingError('WORKFLOW_BUNDLE_PATH: no workflow bundle at /nowhere/bundle.js'),
    );
    expect(() => chooseWorkflowSource({ explicit: '/nowhere/bundle.js', workflowsPath, exists: existing() })).toThrow(WorkflowBundleMissingError);
  });

  it('looks for the built bundle only when the worker runs compiled code, never beside the TypeScript sources', () => {
    expect(builtBundlePath('/app/dist/workers/worker.js')).toBe(path.join('/app/dist', BUNDLE_FILE));
    expect(builtBundlePath('/app/workers/worker.ts')).toBeUndefined();
  });
});

describe('the worker cache setting', () => {
  it('keeps 100 workflows by default and reads another size from the environment', () => {
    expect(loadConfig({}).WORKER_MAX_CACHED_WORKFLOWS).toBe(100);
    expect(loadConfig({ WORKER_MAX_CACHED_WORKFLOWS: '500' }).WORKER_MAX_CACHED_WORKFLOWS).toBe(500);
    expect(loadConfig({ WORKER_MAX_CACHED_WORKFLOWS: '0' }).WORKER_MAX_CACHED_WORKFLOWS).toBe(0);
  });

  it.each(['1', '-5', 'lots'])('refuses the cache size %p, naming the variable', (value) => {
    expect(() => loadConfig({ WORKER_MAX_CACHED_WORKFLOWS: value })).toThrow(/WORKER_MAX_CACHED_WORKFLOWS/);
  });
});
