/**
 * Proves each local service really works once its starter resolves: these are the stand-ins every
 * other test and `npm start` rely on.
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import mongoose from 'mongoose';
import nodemailer from 'nodemailer';
import { startFerretDb, type FerretDb } from '../../stack/ferretdb';
import { startMailViewer } from '../../stack/mail-viewer';
import { freePort } from '../../stack/ports';
import { startSmtpCatcher, type SmtpCatcher } from '../../stack/smtp-catcher';
import { startTemporalDevServer } from '../../stack/temporal';

const tempDirs: string[] = [];
async function tempDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), `kontrol-stack-${prefix}-`));
  tempDirs.push(dir);
  return dir;
}

/** Servers stopped in afterAll even when a test fails half-way; stop() is idempotent. */
const running: Array<{ stop(): Promise<void> }> = [];
function keep<T extends { stop(): Promise<void> }>(service: T): T {
  running.push(service);
  return service;
}

afterAll(async () => {
  await Promise.all(running.map((service) => service.stop()));
  await Promise.all(tempDirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

function canListenOn(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

describe('Temporal dev server', () => {
  it('serves the default namespace and frees its port once stopped', async () => {
    const temporal = keep(await startTemporalDevServer());
    expect(temporal.address).toBe(`127.0.0.1:${temporal.port}`);
    expect(temporal.uiUrl).toBeUndefined();

    const connection = await Connection.connect({ address: temporal.address });
    try {
      const { namespaceInfo } = await connection.workflowService.describeNamespace({ namespace: 'default' });
      expect(namespaceInfo?.name).toBe('default');
    } finally {
      await connection.close();
    }

    await temporal.stop();
    await temporal.stop();
    expect(await canListenOn(temporal.port)).toBe(true);
  });

  it('serves the web UI when asked to', async () => {
    const temporal = keep(await startTemporalDevServer({ ui: true }));
    try {
      expect(temporal.uiUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const response = await fetch(temporal.uiUrl!);
      expect(response.status).toBe(200);
    } finally {
      await temporal.stop();
    }
  });

  it('keeps workflows across a restart on the same data directory', async () => {
    const dataDir = await tempDir('temporal');
    const port = await freePort();

    const first = keep(await startTemporalDevServer({ dataDir, port }));
    const firstConnection = await Connection.connect({ address: first.address });
    try {
      await new Client({ connection: firstConnection }).workflow.start('anything', {
        workflowId: 'stack-test',
        taskQueue: 'none',
      });
    } finally {
      await firstConnection.close();
    }
    await first.stop();
    expect(await readdir(dataDir)).toContain('temporal.db');

    const second = keep(await startTemporalDevServer({ dataDir, port }));
    const secondConnection = await Connection.connect({ address: second.address });
    try {
      const description = await new Client({ connection: secondConnection }).workflow.getHandle('stack-test').describe();
      expect(description.type).toBe('anything');
      expect(description.status.name).toBe('RUNNING');
    } finally {
      await secondConnection.close();
      await second.stop();
    }
  });

  it('reports the log tail when the server cannot start', async () => {
    // The readiness probes connect to the blocker before temporal gives up; a gRPC channel stuck
    // in its handshake is not closed by Connection.close(), so close() must not wait for it.
    const accepted = new Set<net.Socket>();
    const blocker = net.createServer((socket) => accepted.add(socket));
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const { port } = blocker.address() as net.AddressInfo;
    try {
      await expect(startTemporalDevServer({ port })).rejects.toThrow(/temporal exited[\s\S]*address already in use/);
    } finally {
      for (const socket of accepted) socket.destroy();
      await new Promise((resolve) => blocker.close(resolve));
    }
  });
});

describe('FerretDB', () => {
  let ferret: FerretDb;
  let connection: mongoose.Connection | undefined;

  beforeAll(async () => {
    ferret = keep(await startFerretDb({ dataDir: await tempDir('ferretdb') }));
  });

  afterAll(async () => {
    await connection?.close();
  });

  it('exposes a uri without a database, so callers pick their own', () => {
    expect(ferret.uri).toBe(`mongodb://127.0.0.1:${ferret.port}/`);
    expect(ferret.databaseUri('kontrol')).toBe(`mongodb://127.0.0.1:${ferret.port}/kontrol`);
  });

  it('stores documents and finds them again through mongoose', async () => {
    connection = await mongoose.createConnection(ferret.databaseUri('stack-test')).asPromise();
    const notes = connection.model('Note', new mongoose.Schema({ text: String, order: Number }));
    await notes.insertMany([
      { text: 'first', order: 1 },
      { text: 'second', order: 2 },
    ]);

    const found = await notes.find({ order: { $gte: 2 } }).lean();
    expect(found.map((note) => note.text)).toEqual(['second']);
  });

  it('rejects a duplicate key on a unique index', async () => {
    connection ??= await mongoose.createConnection(ferret.databaseUri('stack-test')).asPromise();
    const users = connection.model(
      'User',
      new mongoose.Schema({ email: { type: String, required: true, unique: true } }, { autoIndex: false }),
    );
    await users.createIndexes();
    await users.create({ email: 'a@example.test' });

    await expect(users.create({ email: 'a@example.test' })).rejects.toMatchObject({ code: 11000 });
    expect(await users.countDocuments()).toBe(1);
  });
});

describe('SMTP catcher', () => {
  let catcher: SmtpCatcher;
  let maildir: string;

  beforeAll(async () => {
    maildir = await tempDir('maildir');
    catcher = keep(await startSmtpCatcher({ maildir }));
  });

  const transport = () => nodemailer.createTransport(catcher.url);

  it('catches a message sent by nodemailer and saves it in the maildir', async () => {
    const waiting = catcher.waitFor((message) => message.to.includes('inspector@example.test'), 5_000);
    await transport().sendMail({
      from: 'kontrol@example.test',
      to: 'inspector@example.test',
      bcc: 'archive@example.test',
      subject: 'Recommendation issued',
      text: 'Please act on it.',
    });

    const message = await waiting;
    expect(message.from).toBe('kontrol@example.test');
    expect(message.to).toEqual(['inspector@example.test', 'archive@example.test']);
    expect(message.raw.toString('utf8')).toContain('Subject: Recommendation issued');
    expect(message.receivedAt).toBeInstanceOf(Date);
    expect(catcher.messages).toHaveLength(1);

    const files = await readdir(maildir);
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(/^\d{4}-\d\d-\d\dT[\d-]+Z-1\.eml$/);
  });

  it('finds a message caught before waitFor was called, and forgets it after clear', async () => {
    await transport().sendMail({ from: 'kontrol@example.test', to: 'early@example.test', text: 'hi' });
    await expect(catcher.waitFor((m) => m.to.includes('early@example.test'), 100)).resolves.toBeDefined();

    catcher.clear();
    expect(catcher.messages).toHaveLength(0);
    await expect(catcher.waitFor((m) => m.to.includes('early@example.test'), 100)).rejects.toThrow(/no matching message/);
  });

  it('makes senders fail with a temporary 4xx error while refusing, and accepts again afterwards', async () => {
    catcher.clear();
    catcher.setRefusing(true);
    expect(catcher.refusing).toBe(true);
    try {
      const failure: unknown = await transport()
        .sendMail({ from: 'kontrol@example.test', to: 'inspector@example.test', text: 'during the outage' })
        .then(
          () => undefined,
          (error: unknown) => error,
        );
      expect(failure).toMatchObject({ responseCode: 451 });
      expect(catcher.messages).toHaveLength(0);
    } finally {
      catcher.setRefusing(false);
    }

    await transport().sendMail({ from: 'kontrol@example.test', to: 'inspector@example.test', text: 'after the outage' });
    expect(catcher.messages).toHaveLength(1);
  });

  it('holds a transaction until released', async () => {
    catcher.clear();
    catcher.setHolding(true);
    const sending = transport().sendMail({ from: 'kontrol@example.test', to: 'held@example.test', text: 'held' });
    await new Promise((r) => setTimeout(r, 300));
    expect(catcher.held).toBe(1);
    expect(catcher.messages).toHaveLength(0);
    catcher.setHolding(false);
    await sending;
    expect(catcher.held).toBe(0);
    expect(catcher.messages.map((m) => m.to)).toEqual([['held@example.test']]);
  });

  it('shows caught mail on a web page, escaping what the mail says', async () => {
    const viewer = keep(await startMailViewer({ maildir }));
    await transport().sendMail({
      from: 'kontrol@example.test',
      to: 'viewer@example.test',
      subject: 'Напоминание <b>срок</b>',
      text: 'Текст <script>x()</script>',
      html: '<p>HTML <script>x()</script></p>',
    });
    const list = await fetch(viewer.url);
    expect(list.status).toBe(200);
    expect(list.headers.get('content-security-policy')).toContain("default-src 'none'");
    const listed = await list.text();
    expect(listed).toContain('Напоминание &lt;b&gt;срок&lt;/b&gt;');
    const link = /href="(\/message\/[^"]+)"/.exec(listed)?.[1];
    expect(link).toBeDefined();
    const shown = await (await fetch(viewer.url + link)).text();
    expect(shown).toContain('Текст &lt;script&gt;x()&lt;/script&gt;');
    expect(shown).toMatch(/<iframe sandbox [^>]*srcdoc="[^"]*&lt;script&gt;/);
    expect(shown).not.toContain('<script>');
    expect((await fetch(`${viewer.url}/message/..%2Fetc%2Fpasswd`)).status).toBe(404);
  });
});
