'use strict';
// The client's error tree, the same as the Python client's (clients/python/doctriage/errors.py):
//
// DocTriageError
// ├── DocumentRejected        INVALID_ARGUMENT: the document is refused (reason says why)
// ├── InvalidRequest          INVALID_ARGUMENT / NOT_FOUND / FAILED_PRECONDITION on other fields
// ├── AuthenticationError     UNAUTHENTICATED / PERMISSION_DENIED
// ├── RetryableError          worth retrying later (retryAfter seconds when the server says)
// │   ├── Overloaded          RESOURCE_EXHAUSTED (rate limit or admission)
// │   ├── ServiceUnavailable  UNAVAILABLE (scanner or model down, shutting down, no connection)
// │   └── DeadlineExceeded    DEADLINE_EXCEEDED
// └── ServerError             INTERNAL and anything else
//
// The reason and the rest come from the google.rpc.Status the sidecar sends in the
// `grpc-status-details-bin` trailer (a stream item carries the same Status in its `error` field).

const grpc = require('@grpc/grpc-js');
const { rpcTypes } = require('./protos');

const DETAILS_TRAILER = 'grpc-status-details-bin';
const REQUEST_ID = 'x-request-id';
const ERROR_DOMAIN = 'doctriage.v1';
const TYPE_PREFIX = 'type.googleapis.com/';

// Reasons that mean "this document is refused" rather than "this request is malformed".
const DOCUMENT_REASONS = new Set([
  'UNSUPPORTED_TYPE',
  'TYPE_MISMATCH',
  'TOO_LARGE',
  'EMPTY',
  'MALFORMED',
  'TRUNCATED',
  'ACTIVE_CONTENT',
  'DECOMPRESSION_BOMB',
  'ENCRYPTED',
  'MALWARE',
  'POLYGLOT',
  'TRAILING_DATA',
]);

const CODE_NAMES = Object.fromEntries(Object.entries(grpc.status).map(([name, value]) => [value, name]));

class DocTriageError extends Error {
  /**
   * @param {string} message the server's message (never document content or secrets)
   * @param {object} [fields] code (gRPC status name), reason (ErrorInfo.reason), retryAfter
   *   (seconds, RetryInfo), metadata (ErrorInfo.metadata), fieldViolations (BadRequest),
   *   requestId (the x-request-id trailer or the stream item's id), details (every decoded detail)
   */
  constructor(message, fields = {}) {
    const { code = '', reason = '' } = fields;
    super(reason || code ? `${reason || code}: ${message}` : message);
    this.name = new.target.name;
    this.serverMessage = message;
    this.code = code;
    this.reason = reason;
    this.retryAfter = fields.retryAfter ?? null;
    this.metadata = fields.metadata ?? {};
    this.fieldViolations = fields.fieldViolations ?? [];
    this.requestId = fields.requestId ?? '';
    this.details = fields.details ?? [];
  }

  toJSON() {
    return {
      type: this.name,
      code: this.code,
      reason: this.reason,
      message: this.serverMessage,
      retryAfter: this.retryAfter,
      metadata: this.metadata,
      fieldViolations: this.fieldViolations,
      requestId: this.requestId,
    };
  }
}

class DocumentRejected extends DocTriageError {}
class InvalidRequest extends DocTriageError {}
class AuthenticationError extends DocTriageError {}
class RetryableError extends DocTriageError {}
class Overloaded extends RetryableError {}
class ServiceUnavailable extends RetryableError {}
class DeadlineExceeded extends RetryableError {}
class ServerError extends DocTriageError {}

const BY_CODE = {
  INVALID_ARGUMENT: InvalidRequest,
  NOT_FOUND: InvalidRequest,
  FAILED_PRECONDITION: InvalidRequest,
  UNAUTHENTICATED: AuthenticationError,
  PERMISSION_DENIED: AuthenticationError,
  RESOURCE_EXHAUSTED: Overloaded,
  UNAVAILABLE: ServiceUnavailable,
  DEADLINE_EXCEEDED: DeadlineExceeded,
};

function seconds(duration) {
  if (!duration) return 0;
  return Number(duration.seconds || 0) + Number(duration.nanos || 0) / 1e9;
}

/**
 * Decode the `details` of a google.rpc.Status ([{type_url, value}], Any as protobufjs or
 * @grpc/proto-loader give it) into plain objects: {type: "google.rpc.ErrorInfo", ...fields}.
 * Types this client does not know are kept as {type, value} (the raw bytes).
 */
function decodeDetails(details) {
  const root = rpcTypes();
  return (details || []).map((any) => {
    const typeUrl = any.type_url ?? any.typeUrl ?? '';
    const type = typeUrl.startsWith(TYPE_PREFIX) ? typeUrl.slice(TYPE_PREFIX.length) : typeUrl;
    let message;
    try {
      message = root.lookupType(type);
    } catch {
      return { type, value: Buffer.from(any.value || []) };
    }
    const decoded = message.toObject(message.decode(any.value || Buffer.alloc(0)), {
      longs: String,
      defaults: true,
      arrays: true,
      objects: true,
    });
    return { type, ...decoded };
  });
}

/** Decode the bytes of a `grpc-status-details-bin` trailer: {code, message, details}. */
function decodeStatus(bytes) {
  const Status = rpcTypes().lookupType('google.rpc.Status');
  const status = Status.decode(bytes);
  return { code: status.code, message: status.message, details: decodeDetails(status.details) };
}

/**
 * The matching DocTriageError for a google.rpc.Status: {code (number), message, details}, with
 * details either raw Any ({type_url, value}) or already decoded.
 */
function fromStatus(status, requestId = '') {
  const code = CODE_NAMES[status.code] ?? 'UNKNOWN';
  const raw = status.details || [];
  const details = raw.length && !('type' in raw[0]) ? decodeDetails(raw) : raw;
  const fields = { code, reason: '', retryAfter: null, metadata: {}, fieldViolations: [], requestId, details };
  for (const detail of details) {
    if (detail.type === 'google.rpc.ErrorInfo') {
      fields.reason = detail.reason;
      fields.metadata = detail.metadata || {};
    } else if (detail.type === 'google.rpc.RetryInfo') {
      fields.retryAfter = seconds(detail.retry_delay);
    } else if (detail.type === 'google.rpc.BadRequest') {
      fields.fieldViolations = (detail.field_violations || []).map((v) => ({
        field: v.field,
        description: v.description,
      }));
    }
  }
  let Cls = BY_CODE[code] || ServerError;
  if (code === 'INVALID_ARGUMENT' && DOCUMENT_REASONS.has(fields.reason)) Cls = DocumentRejected;
  return new Cls(status.message || '', fields);
}

/**
 * The matching DocTriageError for an error of @grpc/grpc-js (a ServiceError: code, details,
 * metadata = the trailers). Without a details trailer (no connection, auth refusals, a message
 * gRPC itself refused) the gRPC status alone decides the class and the reason is "".
 */
function fromGrpcError(error) {
  if (error instanceof DocTriageError) return error;
  const trailers = error && error.metadata instanceof grpc.Metadata ? error.metadata : null;
  const requestId = trailers ? String(trailers.get(REQUEST_ID)[0] ?? '') : '';
  const bin = trailers ? trailers.get(DETAILS_TRAILER)[0] : undefined;
  if (bin) {
    try {
      return fromStatus(decodeStatus(bin), requestId);
    } catch {
      // fall through: an undecodable trailer is reported as the bare status
    }
  }
  const code = typeof error?.code === 'number' ? error.code : grpc.status.UNKNOWN;
  return fromStatus({ code, message: error?.details ?? String(error), details: [] }, requestId);
}

module.exports = {
  DETAILS_TRAILER,
  ERROR_DOMAIN,
  DOCUMENT_REASONS,
  DocTriageError,
  DocumentRejected,
  InvalidRequest,
  AuthenticationError,
  RetryableError,
  Overloaded,
  ServiceUnavailable,
  DeadlineExceeded,
  ServerError,
  decodeDetails,
  decodeStatus,
  fromStatus,
  fromGrpcError,
};
