// Type declarations of @doctriage/client (lib/index.js, lib/errors.js). Hand-written: the API is
// small; test/types.ts is compiled against them by `npm test` (tsc --noEmit).
/// <reference types="node" />

import type { ChannelCredentials, ChannelOptions } from '@grpc/grpc-js';

export declare const DEFAULT_ADDRESS: string;
/** Seconds per document. */
export declare const DEFAULT_TIMEOUT: number;
/** Seconds for a whole classifyMany stream. */
export declare const DEFAULT_STREAM_TIMEOUT: number;
/** "grpc-status-details-bin": the trailer that carries the google.rpc.Status. */
export declare const DETAILS_TRAILER: string;
/** "doctriage.v1": ErrorInfo.domain of every error the sidecar sends. */
export declare const ERROR_DOMAIN: string;
/** Reasons that mean "this document is refused" (DocumentRejected). */
export declare const DOCUMENT_REASONS: ReadonlySet<string>;

export type Decision =
  | 'DECISION_UNSPECIFIED'
  | 'ACCEPTED'
  | 'ACCEPTED_AFTER_RULES'
  | 'HUMAN_REVIEW'
  | 'REJECTED';
export type Source = 'SOURCE_UNSPECIFIED' | 'MODEL' | 'CACHE' | 'FALLBACK_MODEL' | 'RULES' | 'DEGRADED';

/** A document: its bytes plus what the sidecar checks them against. */
export interface DocumentInput {
  content: Uint8Array;
  filename?: string;
  mimeType?: string;
  routingKey?: string;
  metadata?: Record<string, string>;
  clientRef?: string;
}

/** A path (read by the client), bytes, or a DocumentInput. */
export type DocumentSource = string | Uint8Array | DocumentInput;

export interface ClassifyOptions extends Partial<Omit<DocumentInput, 'content'>> {
  /** Sent as x-request-id; the answer's requestId is this one when it is valid. */
  requestId?: string;
  /** Seconds (default: the client's timeout). */
  timeout?: number;
}

export interface ClassifyManyOptions {
  /** Seconds for the whole stream (default: the client's streamTimeout). */
  timeout?: number;
  requestId?: string;
}

export interface RuleFinding {
  rule: string;
  passed: boolean;
  detail: string;
}

/** One answer (docs/API.md, ClassifyResponse). On classifyMany a failed item has `error` set. */
export interface Classification {
  requestId: string;
  clientRef: string;
  label: string;
  confidence: number;
  decision: Decision;
  scores: Record<string, number>;
  modelName: string;
  modelVersion: string;
  source: Source;
  digest: string;
  reviewId: string;
  decisionReasons: string[];
  timings: Record<string, number>;
  flags: string[];
  contentType: string;
  oodScore: number;
  estimatedCost: number;
  ruleFindings: RuleFinding[];
  error: DocTriageError | null;
}

export interface ClientOptions {
  /** Seconds per document (30). */
  timeout?: number;
  /** Seconds per classifyMany stream (600). */
  streamTimeout?: number;
  /** Sent as `authorization: Bearer <key>`. */
  apiKey?: string;
  /** TLS or mutual TLS (grpc.credentials.createSsl); default plaintext. */
  credentials?: ChannelCredentials;
  channelOptions?: ChannelOptions;
}

export declare class Client {
  constructor(address?: string, options?: ClientOptions);
  readonly address: string;
  timeout: number;
  streamTimeout: number;
  /** Rejects with a DocTriageError subclass. */
  classify(source: DocumentSource, options?: ClassifyOptions): Promise<Classification>;
  /** Completion order; refused documents come back with `error` set. */
  classifyMany(sources: Iterable<DocumentSource>, options?: ClassifyManyOptions): AsyncGenerator<Classification, void>;
  close(): void;
}

/** A decoded google.rpc detail: {type: "google.rpc.ErrorInfo", reason, domain, metadata}, ... */
export interface StatusDetail {
  type: string;
  [field: string]: unknown;
}

export interface FieldViolation {
  field: string;
  description: string;
}

export interface DocTriageErrorFields {
  code?: string;
  reason?: string;
  retryAfter?: number | null;
  metadata?: Record<string, string>;
  fieldViolations?: FieldViolation[];
  requestId?: string;
  details?: StatusDetail[];
}

export declare class DocTriageError extends Error {
  constructor(message: string, fields?: DocTriageErrorFields);
  /** The server's message (`message` is "<reason or code>: <serverMessage>"). */
  readonly serverMessage: string;
  /** gRPC status code name, e.g. "INVALID_ARGUMENT" ("" for a local failure). */
  readonly code: string;
  /** ErrorInfo.reason, e.g. "UNSUPPORTED_TYPE" ("" when the server sent no details). */
  readonly reason: string;
  /** RetryInfo.retry_delay in seconds, when the server sent one. */
  readonly retryAfter: number | null;
  /** ErrorInfo.metadata (non-secret facts, e.g. limit, digest). */
  readonly metadata: Record<string, string>;
  /** BadRequest.field_violations (refused documents: field "content"). */
  readonly fieldViolations: FieldViolation[];
  /** The x-request-id trailer, or the stream item's request id. */
  readonly requestId: string;
  readonly details: StatusDetail[];
  toJSON(): Record<string, unknown>;
}
export declare class DocumentRejected extends DocTriageError {}
export declare class InvalidRequest extends DocTriageError {}
export declare class AuthenticationError extends DocTriageError {}
export declare class RetryableError extends DocTriageError {}
export declare class Overloaded extends RetryableError {}
export declare class ServiceUnavailable extends RetryableError {}
export declare class DeadlineExceeded extends RetryableError {}
export declare class ServerError extends DocTriageError {}

export interface AnyMessage {
  type_url: string;
  value: Uint8Array;
}

export interface RpcStatus {
  code: number;
  message: string;
  details: Array<AnyMessage | StatusDetail>;
}

/** Decode the bytes of a grpc-status-details-bin trailer. */
export declare function decodeStatus(bytes: Uint8Array): { code: number; message: string; details: StatusDetail[] };
export declare function decodeDetails(details: AnyMessage[]): StatusDetail[];
/** The DocTriageError subclass for a google.rpc.Status (a stream item's `error`). */
export declare function fromStatus(status: RpcStatus, requestId?: string): DocTriageError;
/** The DocTriageError subclass for an error of @grpc/grpc-js (reads its trailers). */
export declare function fromGrpcError(error: unknown): DocTriageError;
/** The include directories the .proto files are loaded from. */
export declare function protoDirs(): string[];
