/**
 * An in-process SMTP server that accepts every message and keeps it, standing in for the real
 * mail relay in development and tests. It can also play an outage (see setRefusing).
 */
import { mkdirSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { SMTPServer, type SMTPServerError } from 'smtp-server';

const MAX_MESSAGE_BYTES = 25 * 1024 * 1024;

export interface CaughtMessage {
  /** Envelope sender (MAIL FROM), '' for a null sender. */
  from: string;
  /** Envelope recipients (RCPT TO), which include Bcc recipients absent from the headers. */
  to: string[];
  /** The message as received, headers included; parse it with mailparser if needed. */
  raw: Buffer;
  receivedAt: Date;
}

export interface SmtpCatcherOptions {
  /** A free one when omitted (0). */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Also write each message to <maildir>/<timestamp>-<n>.eml; created if missing. */
  maildir?: string;
  /** Start in refusing mode (see setRefusing). */
  refuse?: boolean;
  /** Recipients the server answers with a permanent 550 (no such mailbox), as a real one would. */
  unknownRecipients?: RegExp;
}

export interface SmtpCatcher {
  /** smtp://host:port, usable as a nodemailer transport URL. */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  /** Messages caught so far, oldest first; emptied in place by clear(). */
  readonly messages: readonly CaughtMessage[];
  readonly refusing: boolean;
  /**
   * The first message, already caught or still to come, that matches; rejects after timeoutMs
   * (default 10 s). Messages removed by clear() are not considered.
   */
  waitFor(predicate: (message: CaughtMessage) => boolean, timeoutMs?: number): Promise<CaughtMessage>;
  clear(): void;
  /**
   * While refusing, every RCPT and DATA command is answered with a 451 temporary failure, the way
   * an overloaded or unreachable relay makes senders retry later.
   */
  setRefusing(refusing: boolean): void;
  /**
   * While holding, a sender's MAIL FROM gets no answer until holding ends: a transaction frozen
   * before the message is sent, so a test can kill the sender mid-send. A sender gone by then has
   * delivered nothing, as with a real relay.
   */
  setHolding(holding: boolean): void;
  /** Transactions waiting in holding mode now. */
  readonly held: number;
  /**
   * Called with each message the server has kept, just before it answers 250: the moment a test
   * freezes the sender (SIGSTOP) so that the relay has the message and the sender never learns it.
   * Undefined removes it.
   */
  onAccept(hook: ((message: CaughtMessage) => void) | undefined): void;
  /** Resolves once the server is closed; safe to call repeatedly. */
  stop(): Promise<void>;
}

function temporaryFailure(): SMTPServerError {
  const error: SMTPServerError = new Error('4.3.2 Mail service temporarily unavailable, try again later');
  error.responseCode = 451;
  return error;
}

function permanentFailure(address: string): SMTPServerError {
  const error: SMTPServerError = new Error(`5.1.1 <${address}>: mailbox unavailable`);
  error.responseCode = 550;
  return error;
}

export async function startSmtpCatcher(options: SmtpCatcherOptions = {}): Promise<SmtpCatcher> {
  const host = options.host ?? '127.0.0.1';
  const maildir = options.maildir;
  if (maildir) mkdirSync(maildir, { recursive: true });

  const messages: CaughtMessage[] = [];
  const waiters = new Set<(message: CaughtMessage) => void>();
  let refusing = options.refuse ?? false;
  let received = 0;
  let holding = false;
  let acceptHook: ((message: CaughtMessage) => void) | undefined;
  const heldCallbacks = new Set<() => void>();

  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    size: MAX_MESSAGE_BYTES,
    banner: 'Kontrol SMTP catcher',
    logger: false,
    // A reverse DNS lookup per connection only slows tests down.
    disableReverseLookup: true,
    // Lets stop() finish promptly even if a pooled client keeps its connection open.
    closeTimeout: 1_000,
    onMailFrom(_address, _session, callback) {
      if (!holding) return callback();
      const release = () => {
        heldCallbacks.delete(release);
        callback();
      };
      heldCallbacks.add(release);
    },
    onRcptTo(address, _session, callback) {
      if (options.unknownRecipients?.test(address.address)) return callback(permanentFailure(address.address));
      callback(refusing ? temporaryFailure() : null);
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.once('error', (error) => {
        stream.removeAllListeners('end');
        callback(error);
      });
      stream.once('end', () => {
        // The whole message must be read before answering, whatever the answer.
        if (refusing) return callback(temporaryFailure());
        if (stream.sizeExceeded) {
          const error: SMTPServerError = new Error('5.3.4 Message exceeds the fixed maximum message size');
          error.responseCode = 552;
          return callback(error);
        }
        const mailFrom = session.envelope.mailFrom;
        const message: CaughtMessage = {
          from: mailFrom ? mailFrom.address : '',
          to: session.envelope.rcptTo.map((recipient) => recipient.address),
          raw: Buffer.concat(chunks),
          receivedAt: new Date(),
        };
        received += 1;
        // Stored before the reply, so a sender that got 250 can already find the file.
        const stored = maildir
          ? writeFile(path.join(maildir, `${fileTimestamp(message.receivedAt)}-${received}.eml`), message.raw)
          : Promise.resolve();
        stored.then(
          () => {
            messages.push(message);
            for (const notify of [...waiters]) notify(message);
            acceptHook?.(message);
            callback(null);
          },
          (error: unknown) => {
            const failure: SMTPServerError = new Error(`4.3.0 Could not store the message: ${String(error)}`);
            failure.responseCode = 451;
            callback(failure);
          },
        );
      });
    },
  });
  // Without a listener, a client resetting its connection would crash the process.
  server.on('error', () => undefined);

  const port = await new Promise<number>((resolve, reject) => {
    server.server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.server.off('error', reject);
      const address = server.server.address();
      if (address === null || typeof address === 'string') reject(new Error('SMTP catcher has no TCP address'));
      else resolve(address.port);
    });
  });

  const urlHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  let stopping: Promise<void> | undefined;

  return {
    url: `smtp://${urlHost}:${port}`,
    host,
    port,
    messages,
    get refusing() {
      return refusing;
    },
    get held() {
      return heldCallbacks.size;
    },
    onAccept(hook) {
      acceptHook = hook;
    },
    setHolding(value) {
      holding = value;
      if (!value) for (const release of [...heldCallbacks]) release();
    },
    waitFor(predicate, timeoutMs = 10_000) {
      const already = messages.find(predicate);
      if (already) return Promise.resolve(already);
      return new Promise<CaughtMessage>((resolve, reject) => {
        const waiter = (message: CaughtMessage) => {
          let matches: boolean;
          try {
            matches = predicate(message);
          } catch (error) {
            matches = false;
            settle(() => reject(error));
          }
          if (matches) settle(() => resolve(message));
        };
        const settle = (finish: () => void) => {
          clearTimeout(timer);
          waiters.delete(waiter);
          finish();
        };
        const timer = setTimeout(
          () => settle(() => reject(new Error(`no matching message within ${timeoutMs} ms (${messages.length} caught)`))),
          timeoutMs,
        );
        waiters.add(waiter);
      });
    },
    clear() {
      messages.length = 0;
    },
    setRefusing(value) {
      refusing = value;
    },
    stop() {
      for (const release of [...heldCallbacks]) release();
      stopping ??= new Promise<void>((resolve) => server.close(() => resolve()));
      return stopping;
    },
  };
}

/** An ISO timestamp without the characters some file systems reject, sorting like the original. */
function fileTimestamp(date: Date): string {
  return date.toISOString().replace(/[:.]/g, '-');
}
