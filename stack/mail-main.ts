/**
 * The local mail service of a node as a process of its own: the SMTP catcher that keeps every
 * message in MAIL_DIR, and the page that shows them. Started by the node supervisor when no
 * SMTP_URL names a real relay.
 */
import { startMailViewer } from './mail-viewer';
import { startSmtpCatcher } from './smtp-catcher';

async function main(): Promise<void> {
  const maildir = process.env.MAIL_DIR;
  if (!maildir) throw new Error('MAIL_DIR is not set');
  const smtp = await startSmtpCatcher({ maildir, port: Number(process.env.SMTP_PORT || 1025) });
  const viewer = await startMailViewer({ maildir, port: Number(process.env.MAIL_UI_PORT || 8025) });
  const stop = () => {
    void Promise.allSettled([smtp.stop(), viewer.stop()]).then(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((error: unknown) => {
  console.error('mail service failed to start:', error);
  process.exit(1);
});
