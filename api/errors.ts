/**
 * One error type for the whole API and one middleware that turns any error into
 * `{"error":{"code","message","details"?}}` with the right status. Messages are Russian: people
 * read them. Stacks go to the log, never to the client.
 */
import type { ErrorRequestHandler, RequestHandler } from 'express';
import { MulterError } from 'multer';
import { ZodError } from 'zod';
import { ApplicationFailure } from '@temporalio/common';
import { WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { FailureType } from '../domain/errors';
import { isStoreUnavailable } from '../store/unavailable';
import { isTemporalUnavailable } from '../temporal/errors';

export class AppError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

export const badRequest = (message: string, details?: unknown) => new AppError(400, 'bad_request', message, details);
export const unauthorized = (message = 'Требуется вход в систему') => new AppError(401, 'unauthorized', message);
export const forbidden = (message = 'Недостаточно прав для этого действия') => new AppError(403, 'forbidden', message);
export const notFound = (message = 'Не найдено') => new AppError(404, 'not_found', message);
export const conflict = (message: string, details?: unknown) => new AppError(409, 'conflict', message, details);
/**
 * The request is well formed but names something that is not there now (an organisation, a group)
 * or that cannot take it (an empty group): a conflict with the stored state, which the client can
 * resolve, unlike a 400 that no state of the server would accept.
 */
export const unknownReference = (message: string, details?: unknown) => new AppError(409, 'unknown_reference', message, details);
export const unavailable = () => new AppError(503, 'unavailable', 'Служба временно недоступна. Повторите через несколько секунд');
/** How long a client waits before trying again after a 503 (the Retry-After header). */
export const RETRY_AFTER_SECONDS = 5;
export const tooLarge = (message: string, details?: unknown) => new AppError(413, 'payload_too_large', message, details);

export function validationError(error: ZodError): AppError {
  return new AppError(
    400,
    'validation_failed',
    'Проверьте введённые данные',
    error.issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message })),
  );
}

/** Turns a Temporal client error into what the API says about it. */
export function fromTemporal(error: unknown, closedMessage = 'Поручение закрыто и не принимает изменений'): unknown {
  if (error instanceof WorkflowUpdateFailedError) {
    const cause = error.cause;
    if (cause instanceof ApplicationFailure) {
      if (cause.type === FailureType.InvalidInput) return badRequest(cause.message);
      return conflict(cause.message);
    }
    return conflict('Действие отклонено');
  }
  if (error instanceof WorkflowNotFoundError) return conflict(closedMessage);
  return error;
}

export function errorMiddleware({ uploadMaxFileMb, uploadMaxFiles }: { uploadMaxFileMb: number; uploadMaxFiles: number }) {
  const handler: ErrorRequestHandler = (error, req, res, _next) => {
    const appError = toAppError(error, { uploadMaxFileMb, uploadMaxFiles });
    if (appError.status >= 500) req.log?.error({ err: error }, 'request failed');
    if (res.headersSent) return;
    if (appError.status === 503) res.setHeader('Retry-After', String(RETRY_AFTER_SECONDS));
    const body: { code: string; message: string; details?: unknown } = { code: appError.code, message: appError.message };
    if (appError.details !== undefined) body.details = appError.details;
    res.status(appError.status).json({ error: body });
  };
  return handler;
}

export function toAppError(error: unknown, limits: { uploadMaxFileMb: number; uploadMaxFiles: number }): AppError {
  if (error instanceof AppError) return error;
  if (error instanceof ZodError) return validationError(error);
  if (error instanceof MulterError) {
    switch (error.code) {
      case 'LIMIT_FILE_SIZE':
        return tooLarge(`Файл больше допустимого размера (${limits.uploadMaxFileMb} МБ)`, { maxFileMb: limits.uploadMaxFileMb });
      case 'LIMIT_FILE_COUNT':
        return tooLarge(`Слишком много файлов: не больше ${limits.uploadMaxFiles} за один раз`, { maxFiles: limits.uploadMaxFiles });
      case 'LIMIT_FIELD_VALUE':
        return tooLarge('Комментарий слишком длинный');
      default:
        return badRequest(`Неверная форма отправки файлов (${error.field ?? error.code})`);
    }
  }
  if (isStoreUnavailable(error) || isTemporalUnavailable(error)) return unavailable();
  // busboy's words for a multipart body it cannot read (no boundary, a broken part header…).
  if (error instanceof Error && /^(Multipart: |Malformed part header|Unexpected end of form|Part terminated early)/.test(error.message))
    return badRequest('Неверная форма отправки файлов (multipart/form-data)');
  const status = (error as { status?: number; type?: string }).status;
  const type = (error as { type?: string }).type;
  if (type === 'entity.parse.failed') return badRequest('Тело запроса не является корректным JSON');
  if (type === 'entity.too.large') return tooLarge('Слишком большой запрос');
  if (status && status >= 400 && status < 500) return new AppError(status, 'bad_request', 'Неверный запрос');
  return new AppError(500, 'internal', 'Внутренняя ошибка сервера. Попробуйте позже');
}

export const notFoundRoute: RequestHandler = (_req, _res, next) => next(notFound('Такого адреса нет'));
