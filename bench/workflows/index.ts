/** The benchmark's own workflows, bundled together for its one in-process worker. */
export { trivialWorkflow } from './trivial';
export { referenceWorkflow } from './reference';
