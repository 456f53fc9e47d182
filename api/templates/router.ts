/**
 * Email templates for the administrator: what each one is for, and a preview rendered with its
 * sample data by the same renderer the worker sends with.
 */
import { Router } from 'express';
import { z } from 'zod';
import { TEMPLATE_NAMES, type EmailRenderer, type TemplateName } from '../../notifications/render';
import { emailSamples, renderSample } from '../../notifications/samples';
import { requireRole } from '../auth/middleware';
import { notFound } from '../errors';
import type { ApiDocs } from '../openapi';
import { validate } from '../validate';

/**
 * The preview's HTML is opened in a browser on the API's own origin: a sandbox with nothing allowed
 * but inline styles, so a script or form that reached a template could neither run nor post, and
 * only the admin UI's own pages may frame it.
 */
export const PREVIEW_CSP = "sandbox; default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'self'";

const NameParams = z.object({ name: z.string().max(100) });
const PreviewQuery = z.strictObject({ part: z.enum(['html', 'text']).optional() });

const TemplateOut = z
  .object({ name: z.enum(TEMPLATE_NAMES), description: z.string(), subject: z.string() })
  .meta({ id: 'EmailTemplate' });
const PreviewOut = z
  .object({ name: z.enum(TEMPLATE_NAMES), subject: z.string(), html: z.string(), text: z.string() })
  .meta({ id: 'EmailPreview' });

const isTemplateName = (name: string): name is TemplateName => (TEMPLATE_NAMES as readonly string[]).includes(name);

export function createTemplatesRouter({ renderer, baseUrl, docs }: { renderer: EmailRenderer; baseUrl: string; docs: ApiDocs }) {
  const router = Router();
  // Every route here is the administrator's.
  router.use(requireRole('admin'));
  const samples = emailSamples(baseUrl);

  docs.route('get', '/api/templates', {
    summary: 'Шаблоны писем: назначение и тема на примере',
    tag: 'Письма',
    roles: ['admin'],
    response: { description: 'Шаблоны', schema: z.object({ items: z.array(TemplateOut), total: z.number() }) },
  });
  router.get('/', (_req, res) => {
    const items = TEMPLATE_NAMES.map((name) => ({
      name,
      description: samples[name].description,
      subject: renderSample(renderer, name, baseUrl).subject,
    }));
    res.json({ items, total: items.length });
  });

  docs.route('get', '/api/templates/{name}/preview', {
    summary: 'Письмо по шаблону на примере: JSON, или только HTML (part=html), или только текст (part=text)',
    tag: 'Письма',
    roles: ['admin'],
    params: NameParams,
    query: PreviewQuery,
    response: {
      description: 'Письмо',
      schema: PreviewOut,
      alternatives: { 'text/html': z.string().meta({ description: 'part=html' }), 'text/plain': z.string().meta({ description: 'part=text' }) },
    },
    errors: [404],
  });
  router.get('/:name/preview', validate({ params: NameParams, query: PreviewQuery }), (req, res) => {
    const { name } = req.params;
    if (!isTemplateName(name)) throw notFound(`Шаблона письма «${name}» нет`);
    const email = renderSample(renderer, name, baseUrl);
    switch (req.query.part) {
      case 'html':
        res.setHeader('Content-Security-Policy', PREVIEW_CSP);
        return void res.type('html').send(email.html);
      case 'text':
        return void res.type('text').send(email.text);
      default:
        res.json({ name, ...email });
    }
  });

  return router;
}
