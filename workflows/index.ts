export { assignmentWorkflow } from './assignment';
export { curatorDigestWorkflow } from './digest';
export { resendEmailWorkflow } from './email';
export { recommendationWorkflow } from './recommendation';
