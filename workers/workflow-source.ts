/**
 * Where the worker gets its workflow code: a bundle built ahead of time, or the sources, which the
 * SDK then bundles with webpack as the worker starts (seconds of CPU and a webpack compilation's
 * worth of memory that the process keeps as its peak).
 */
import { existsSync } from 'node:fs';
import path from 'node:path';

export type WorkflowSource =
  | {
      kind: 'bundle';
      codePath: string;
      /** Who named the bundle: the caller (tests), WORKFLOW_BUNDLE_PATH, or `npm run build`. */
      from: 'option' | 'WORKFLOW_BUNDLE_PATH' | 'build';
    }
  | { kind: 'sources'; workflowsPath: string };

export interface WorkflowSourceInput {
  /** startWorker's options.workflowBundlePath. */
  explicit?: string;
  /** Config WORKFLOW_BUNDLE_PATH. */
  configured?: string;
  /** The bundle `npm run build` writes beside the compiled code; only when running compiled code. */
  built?: string;
  /** The workflows' entry module, bundled at start when no bundle is found. */
  workflowsPath: string;
  exists?: (file: string) => boolean;
}

export class WorkflowBundleMissingError extends Error {}

/**
 * A bundle someone named must exist: falling back to the sources would hide a deployment mistake.
 * The one the build leaves is used only when it is there, so that running from a dist/ compiled by
 * `tsc` alone still works.
 */
export function chooseWorkflowSource(input: WorkflowSourceInput): WorkflowSource {
  const exists = input.exists ?? existsSync;
  if (input.explicit) {
    const codePath = path.resolve(input.explicit);
    if (!exists(codePath)) throw new WorkflowBundleMissingError(`workflowBundlePath: no workflow bundle at ${codePath}`);
    return { kind: 'bundle', codePath, from: 'option' };
  }
  if (input.configured) {
    const codePath = path.resolve(input.configured);
    if (!exists(codePath)) throw new WorkflowBundleMissingError(`WORKFLOW_BUNDLE_PATH: no workflow bundle at ${codePath}`);
    return { kind: 'bundle', codePath, from: 'WORKFLOW_BUNDLE_PATH' };
  }
  if (input.built && exists(input.built)) return { kind: 'bundle', codePath: input.built, from: 'build' };
  return { kind: 'sources', workflowsPath: input.workflowsPath };
}

/**
 * The bundle `npm run build` writes (dist/workflow-bundle.js) as seen from a module in dist/<dir>/,
 * or nothing when `moduleFile` is TypeScript run by tsx or ts-jest: a bundle lying beside the
 * sources would be of code older than what is running.
 */
export function builtBundlePath(moduleFile: string): string | undefined {
  return moduleFile.endsWith('.js') ? path.join(path.dirname(moduleFile), '..', BUNDLE_FILE) : undefined;
}

/** The file name `npm run build` gives the bundle in dist/. */
export const BUNDLE_FILE = 'workflow-bundle.js';
