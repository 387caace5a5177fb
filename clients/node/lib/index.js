'use strict';
// Node.js client of the DocTriage sidecar: doctriage.v1.Classifier over @grpc/grpc-js, with the
// service loaded from proto/ at run time (@grpc/proto-loader) and errors carrying the reason of
// the google.rpc.ErrorInfo the sidecar sends (./errors.js).

const fs = require('node:fs');
const path = require('node:path');
const grpc = require('@grpc/grpc-js');
const errors = require('./errors');
const { classifierDefinition, protoDirs } = require('./protos');

const DEFAULT_ADDRESS = '127.0.0.1:50051';
const DEFAULT_TIMEOUT = 30; // seconds, one document
const DEFAULT_STREAM_TIMEOUT = 600; // seconds, a whole classifyMany stream
const MAX_MESSAGE = 32 * 1024 * 1024;
const MIME_TYPES = { '.pdf': 'application/pdf', '.jpg': 'image/jpeg', '.jpeg': 'image/jpeg', '.png': 'image/png' };

/**
 * A ClassifyRequest from a path, bytes, or {content, filename, mimeType, routingKey, metadata,
 * clientRef}; `options` fills what the source does not say. A path is read here (its name and
 * extension become filename and mime_type, the path the client_ref).
 */
function toRequest(source, options = {}) {
  let doc;
  if (typeof source === 'string') {
    doc = {
      content: fs.readFileSync(source),
      filename: path.basename(source),
      mimeType: MIME_TYPES[path.extname(source).toLowerCase()] || '',
      clientRef: source,
    };
  } else if (source instanceof Uint8Array) {
    doc = { content: source };
  } else if (source && source.content instanceof Uint8Array) {
    doc = { ...source };
  } else {
    throw new TypeError('a document is a path, a Buffer/Uint8Array, or {content, ...}');
  }
  const pick = (key) => options[key] ?? doc[key];
  return {
    content: Buffer.from(doc.content),
    filename: pick('filename') || '',
    mime_type: pick('mimeType') || '',
    routing_key: pick('routingKey') || '',
    metadata: pick('metadata') || {},
    client_ref: pick('clientRef') || '',
  };
}

/** A ClassifyResponse as a plain camelCase object; `error` is a DocTriageError or null. */
function toClassification(r) {
  return {
    requestId: r.request_id ?? '',
    clientRef: r.client_ref ?? '',
    label: r.label ?? '',
    confidence: r.confidence ?? 0,
    decision: r.decision || 'DECISION_UNSPECIFIED',
    scores: Object.fromEntries((r.scores || []).map((s) => [s.label, s.score])),
    modelName: r.model_name ?? '',
    modelVersion: r.model_version ?? '',
    source: r.source || 'SOURCE_UNSPECIFIED',
    digest: r.digest ?? '',
    reviewId: r.review_id ?? '',
    decisionReasons: r.decision_reasons || [],
    timings: r.timings || {},
    flags: r.flags || [],
    contentType: r.content_type ?? '',
    oodScore: r.ood_score ?? 0,
    estimatedCost: r.estimated_cost ?? 0,
    ruleFindings: (r.rule_findings || []).map((f) => ({ rule: f.rule, passed: f.passed, detail: f.detail })),
    error: r.error ? errors.fromStatus(r.error, r.request_id) : null,
  };
}

class Client {
  /**
   * @param {string} [address] host:port of the sidecar
   * @param {object} [options] timeout (seconds per document), streamTimeout (seconds per
   *   classifyMany), apiKey (sent as `authorization: Bearer <key>`), credentials (a
   *   grpc.ChannelCredentials, e.g. grpc.credentials.createSsl(ca, key, cert); default plaintext),
   *   channelOptions (extra gRPC channel arguments)
   */
  constructor(address = DEFAULT_ADDRESS, options = {}) {
    this.address = address;
    this.timeout = options.timeout ?? DEFAULT_TIMEOUT;
    this.streamTimeout = options.streamTimeout ?? DEFAULT_STREAM_TIMEOUT;
    this.apiKey = options.apiKey || '';
    const { Classifier } = classifierDefinition();
    this.stub = new Classifier(address, options.credentials || grpc.credentials.createInsecure(), {
      'grpc.max_send_message_length': MAX_MESSAGE,
      'grpc.max_receive_message_length': MAX_MESSAGE,
      ...(options.channelOptions || {}),
    });
  }

  metadata(requestId) {
    const md = new grpc.Metadata();
    if (this.apiKey) md.set('authorization', `Bearer ${this.apiKey}`);
    if (requestId) md.set('x-request-id', requestId);
    return md;
  }

  /**
   * Classify one document. Resolves to a Classification; rejects with a DocTriageError subclass
   * (DocumentRejected with `.reason`, Overloaded with `.retryAfter`, ...).
   * @param source a path, a Buffer, or {content, filename, mimeType, routingKey, metadata, clientRef}
   * @param [options] the same fields, plus requestId (sent as x-request-id) and timeout (seconds)
   */
  classify(source, options = {}) {
    let request;
    try {
      request = toRequest(source, options);
    } catch (error) {
      return Promise.reject(error);
    }
    const deadline = Date.now() + (options.timeout ?? this.timeout) * 1000;
    return new Promise((resolve, reject) => {
      this.stub.Classify(request, this.metadata(options.requestId), { deadline }, (error, response) => {
        if (error) reject(errors.fromGrpcError(error));
        else resolve(toClassification(response));
      });
    });
  }

  /**
   * Classify many documents over one ClassifyStream; yields Classifications in completion order
   * (match them by clientRef: a path's clientRef is the path). A refused document is yielded with
   * `error` set and the stream goes on; a failure of the whole stream is thrown as a DocTriageError.
   * @param sources an iterable of what classify() takes
   * @param [options] timeout (seconds for the whole stream), requestId
   */
  async *classifyMany(sources, options = {}) {
    const deadline = Date.now() + (options.timeout ?? this.streamTimeout) * 1000;
    const call = this.stub.ClassifyStream(this.metadata(options.requestId), { deadline });
    const send = (async () => {
      try {
        for (const source of sources) {
          const request = toRequest(source);
          if (!call.write(request)) await new Promise((resolve) => call.once('drain', resolve));
        }
      } catch (error) {
        call.cancel();
        throw error;
      } finally {
        call.end();
      }
    })();
    let sendError = null;
    send.catch((error) => {
      sendError = error;
    });
    try {
      for await (const response of call) yield toClassification(response);
    } catch (error) {
      if (sendError) throw sendError;
      throw errors.fromGrpcError(error);
    }
    await send;
  }

  close() {
    this.stub.close();
  }
}

module.exports = {
  Client,
  DEFAULT_ADDRESS,
  DEFAULT_TIMEOUT,
  DEFAULT_STREAM_TIMEOUT,
  toRequest,
  toClassification,
  protoDirs,
  ...errors,
};
