'use strict';
// Offline: the google.rpc details the sidecar sends (encoded here with protobufjs, as the server's
// google.rpc.Status would be) become the right error class with reason, retryAfter and violations.

const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { test } = require('node:test');
const grpc = require('@grpc/grpc-js');
const client = require('..');
const { rpcTypes } = require('../lib/protos');

function any(typeName, fields) {
  const type = rpcTypes().lookupType(typeName);
  return { type_url: `type.googleapis.com/${typeName}`, value: type.encode(type.fromObject(fields)).finish() };
}

function statusBytes(code, message, details) {
  const Status = rpcTypes().lookupType('google.rpc.Status');
  return Buffer.from(Status.encode(Status.fromObject({ code, message, details })).finish());
}

const rejected = [
  any('google.rpc.ErrorInfo', { reason: 'UNSUPPORTED_TYPE', domain: 'doctriage.v1', metadata: { digest: 'ab' } }),
  any('google.rpc.BadRequest', { field_violations: [{ field: 'content', description: 'not a PDF' }] }),
];

test('a refused document: DocumentRejected with ErrorInfo reason, metadata and BadRequest', () => {
  const status = client.decodeStatus(statusBytes(grpc.status.INVALID_ARGUMENT, 'not a PDF', rejected));
  assert.equal(status.details[0].type, 'google.rpc.ErrorInfo');
  const error = client.fromStatus(status, 'rid-1');
  assert.ok(error instanceof client.DocumentRejected);
  assert.ok(error instanceof client.DocTriageError && error instanceof Error);
  assert.equal(error.code, 'INVALID_ARGUMENT');
  assert.equal(error.reason, 'UNSUPPORTED_TYPE');
  assert.equal(error.serverMessage, 'not a PDF');
  assert.equal(error.message, 'UNSUPPORTED_TYPE: not a PDF');
  assert.deepEqual(error.metadata, { digest: 'ab' });
  assert.deepEqual(error.fieldViolations, [{ field: 'content', description: 'not a PDF' }]);
  assert.equal(error.requestId, 'rid-1');
  assert.equal(error.retryAfter, null);
});

test('RESOURCE_EXHAUSTED: Overloaded, retryAfter from RetryInfo in seconds', () => {
  const details = [
    any('google.rpc.ErrorInfo', { reason: 'OVERLOADED', domain: 'doctriage.v1' }),
    any('google.rpc.RetryInfo', { retry_delay: { seconds: 1, nanos: 500000000 } }),
  ];
  const error = client.fromStatus(client.decodeStatus(statusBytes(grpc.status.RESOURCE_EXHAUSTED, 'busy', details)));
  assert.ok(error instanceof client.Overloaded && error instanceof client.RetryableError);
  assert.equal(error.reason, 'OVERLOADED');
  assert.equal(error.retryAfter, 1.5);
});

test('a stream item error (undecoded Any, as @grpc/proto-loader gives it) decodes the same', () => {
  const error = client.fromStatus({ code: grpc.status.INVALID_ARGUMENT, message: 'cut', details: rejected });
  assert.ok(error instanceof client.DocumentRejected);
  assert.equal(error.reason, 'UNSUPPORTED_TYPE');
});

test('unknown detail types are kept raw; a request error is InvalidRequest', () => {
  const details = [
    any('google.rpc.ErrorInfo', { reason: 'INVALID_REQUEST', domain: 'doctriage.v1' }),
    { type_url: 'type.googleapis.com/example.Unknown', value: Buffer.from([8, 1]) },
  ];
  const error = client.fromStatus({ code: grpc.status.INVALID_ARGUMENT, message: 'bad', details });
  assert.ok(error instanceof client.InvalidRequest && !(error instanceof client.DocumentRejected));
  assert.equal(error.details[1].type, 'example.Unknown');
  assert.deepEqual([...error.details[1].value], [8, 1]);
});

test('a grpc-js ServiceError: reason from the grpc-status-details-bin trailer, request id from x-request-id', () => {
  const trailers = new grpc.Metadata();
  trailers.set('grpc-status-details-bin', statusBytes(grpc.status.INVALID_ARGUMENT, 'not a PDF', rejected));
  trailers.set('x-request-id', 'rid-2');
  const serviceError = Object.assign(new Error('3 INVALID_ARGUMENT: not a PDF'), {
    code: grpc.status.INVALID_ARGUMENT,
    details: 'not a PDF',
    metadata: trailers,
  });
  const error = client.fromGrpcError(serviceError);
  assert.ok(error instanceof client.DocumentRejected);
  assert.equal(error.reason, 'UNSUPPORTED_TYPE');
  assert.equal(error.requestId, 'rid-2');
});

test('no details (no connection, auth refusals): the status code alone picks the class', () => {
  const cases = [
    [grpc.status.UNAVAILABLE, client.ServiceUnavailable],
    [grpc.status.UNAUTHENTICATED, client.AuthenticationError],
    [grpc.status.PERMISSION_DENIED, client.AuthenticationError],
    [grpc.status.DEADLINE_EXCEEDED, client.DeadlineExceeded],
    [grpc.status.INTERNAL, client.ServerError],
    [grpc.status.UNKNOWN, client.ServerError],
  ];
  for (const [code, Cls] of cases) {
    const error = client.fromGrpcError({ code, details: 'x', metadata: new grpc.Metadata() });
    assert.ok(error instanceof Cls, `${code} -> ${error.name}`);
    assert.equal(error.reason, '');
  }
});

test('a path becomes content, filename, mime type and client_ref', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'doctriage-node-'));
  const file = path.join(dir, 'Scan.PNG');
  fs.writeFileSync(file, Buffer.from([0x89, 0x50]));
  const request = client.toRequest(file, { routingKey: 'tenant-1' });
  assert.deepEqual([...request.content], [0x89, 0x50]);
  assert.equal(request.filename, 'Scan.PNG');
  assert.equal(request.mime_type, 'image/png');
  assert.equal(request.client_ref, file);
  assert.equal(request.routing_key, 'tenant-1');
  const fromBytes = client.toRequest(Buffer.from('x'), { clientRef: 'b' });
  assert.equal(fromBytes.filename, '');
  assert.equal(fromBytes.client_ref, 'b');
  assert.throws(() => client.toRequest(42), TypeError);
  fs.rmSync(dir, { recursive: true });
});
