/**
 * A read-only web view of the SMTP catcher's mail folder for `npm start`: the list of caught
 * emails, newest first, and each one with its headers, text part and HTML part. Development only:
 * it binds to 127.0.0.1, and the HTML part is shown in a sandboxed frame that runs no script.
 */
import { readdir, readFile } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import Handlebars from 'handlebars';
import { simpleParser, type AddressObject, type ParsedMail } from 'mailparser';

export interface MailViewer {
  readonly url: string;
  stop(): Promise<void>;
}

const EML = /^[\w.-]+\.eml$/;
const escape = Handlebars.escapeExpression;

function addresses(value: AddressObject | AddressObject[] | undefined): string {
  return (Array.isArray(value) ? value : value ? [value] : []).map((a) => a.text).join(', ');
}

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="ru"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escape(title)}</title>
<style>
body { font-family: system-ui, sans-serif; margin: 24px; color: #1a1a1a; }
table { border-collapse: collapse; width: 100%; } td, th { text-align: left; padding: 6px 8px; border-bottom: 1px solid #ddd; vertical-align: top; }
pre { white-space: pre-wrap; background: #f6f6f6; padding: 12px; } iframe { width: 100%; height: 480px; border: 1px solid #ccc; }
</style></head><body>${body}</body></html>`;
}

export async function startMailViewer({ maildir, port = 0, host = '127.0.0.1' }: { maildir: string; port?: number; host?: string }): Promise<MailViewer> {
  // Parsed messages by file name: files never change once written.
  const cache = new Map<string, ParsedMail>();
  const parse = async (file: string) => {
    let parsed = cache.get(file);
    if (!parsed) {
      parsed = await simpleParser(await readFile(path.join(maildir, file)));
      cache.set(file, parsed);
    }
    return parsed;
  };

  const list = async () => {
    const files = (await readdir(maildir).catch(() => [] as string[])).filter((f) => EML.test(f)).sort().reverse();
    const rows = await Promise.all(
      files.map(async (file) => {
        const mail = await parse(file);
        const when = mail.date ? mail.date.toLocaleString('ru-RU') : '';
        return `<tr><td>${escape(when)}</td><td>${escape(addresses(mail.to))}</td><td><a href="/message/${encodeURIComponent(file)}">${escape(mail.subject ?? '(без темы)')}</a></td></tr>`;
      }),
    );
    return page(
      'Письма Kontrol',
      `<h1>Письма: ${files.length}</h1><p>Все письма, которые Kontrol отправил через встроенный SMTP-сервер. Обновите страницу, чтобы увидеть новые.</p>
<table><thead><tr><th>Когда</th><th>Кому</th><th>Тема</th></tr></thead><tbody>${rows.join('')}</tbody></table>`,
    );
  };

  const message = async (file: string) => {
    const mail = await parse(file);
    const html = typeof mail.html === 'string' ? mail.html : '';
    return page(
      mail.subject ?? 'Письмо',
      `<p><a href="/">← ко всем письмам</a></p><h1>${escape(mail.subject ?? '(без темы)')}</h1>
<table><tr><th>От</th><td>${escape(addresses(mail.from))}</td></tr><tr><th>Кому</th><td>${escape(addresses(mail.to))}</td></tr>
<tr><th>Дата</th><td>${escape(mail.date?.toLocaleString('ru-RU') ?? '')}</td></tr><tr><th>Message-ID</th><td>${escape(mail.messageId ?? '')}</td></tr></table>
${html ? `<h2>HTML</h2><iframe sandbox title="HTML-часть письма" srcdoc="${escape(html)}"></iframe>` : ''}
<h2>Текст</h2><pre>${escape(mail.text ?? '')}</pre>`,
    );
  };

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const file = url.pathname.startsWith('/message/') ? decodeURIComponent(url.pathname.slice('/message/'.length)) : undefined;
    const render = url.pathname === '/' ? list() : file && EML.test(file) ? message(file) : undefined;
    const send = (status: number, body: string) => {
      res.writeHead(status, {
        'content-type': 'text/html; charset=utf-8',
        // The page itself runs no script; the email's HTML sits in a sandboxed srcdoc frame.
        'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-src 'self'",
        'x-content-type-options': 'nosniff',
      });
      res.end(body);
    };
    if (!render) return send(404, page('Нет такой страницы', '<p>Нет такой страницы. <a href="/">Все письма</a></p>'));
    render.then(
      (body) => send(200, body),
      () => send(404, page('Письмо не найдено', '<p>Письмо не найдено. <a href="/">Все письма</a></p>')),
    );
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address();
  const actualPort = typeof address === 'object' && address ? address.port : port;
  return {
    url: `http://${host}:${actualPort}`,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
