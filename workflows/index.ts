export { assignmentWorkflow } from './assignment';
export { recommendationWorkflow } from './recommendation';
