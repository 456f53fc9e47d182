/**
 * How the API names a failure that passes (a store or the Temporal server restarting): 503 with
 * Retry-After, so a client retries instead of reporting a fault; anything else stays a 500.
 */
import { mongo } from 'mongoose';
import { ServiceError } from '@temporalio/client';
import { toAppError } from '../../api/errors';

const limits = { uploadMaxFileMb: 20, uploadMaxFiles: 10 };
const grpc = (code: number) => Object.assign(new Error('grpc'), { code, details: 'd', metadata: {} });

describe('toAppError', () => {
  it.each([
    ['an unreachable FerretDB', new mongo.MongoNetworkError('connect ECONNREFUSED 127.0.0.1:27017')],
    ['no server to select', new mongo.MongoServerSelectionError('Server selection timed out', { type: 'Unknown' } as never)],
    ['PostgreSQL restarting under FerretDB', new mongo.MongoServerError({ message: '[msg_find.go:1] ERROR: terminating connection due to administrator command (SQLSTATE 57P01)' })],
    ['mongoose waiting for a connection', Object.assign(new Error('Operation `users.findOne()` buffering timed out after 10000ms'), { name: 'MongooseError' })],
    ['a socket to the store ended under a write', Object.assign(new Error('This socket has been ended by the other party'), { code: 'EPIPE' })],
    ['the Temporal server unavailable', new ServiceError('Failed to start', { cause: grpc(14) })],
    ['the Temporal server not answering in time', new ServiceError('Deadline', { cause: grpc(4) })],
  ])('answers %s with 503', (_what, error) => {
    expect(toAppError(error, limits)).toMatchObject({ status: 503, code: 'unavailable' });
  });

  it.each([
    ['a duplicate key', new mongo.MongoServerError({ message: 'E11000 duplicate key error', code: 11000 })],
    ['a Temporal permission error', new ServiceError('Denied', { cause: grpc(7) })],
    ['a plain bug', new TypeError('x is undefined')],
  ])('keeps %s a 500', (_what, error) => {
    expect(toAppError(error, limits)).toMatchObject({ status: 500, code: 'internal' });
  });
});
