export { startTemporalDevServer, type TemporalDevServer, type TemporalDevServerOptions } from './temporal';
export { startFerretDb, type FerretDb, type FerretDbOptions } from './ferretdb';
export { startSmtpCatcher, type CaughtMessage, type SmtpCatcher, type SmtpCatcherOptions } from './smtp-catcher';
export { freePort } from './ports';
export { MissingToolError } from './tools';
