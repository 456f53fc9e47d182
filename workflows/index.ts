export { assignmentWorkflow } from './assignment';
export { curatorDigestWorkflow } from './digest';
export { redeliverEmailsWorkflow, resendEmailWorkflow } from './email';
export { recommendationWorkflow } from './recommendation';
