#!/usr/bin/env node
'use strict';
// Classify files through a running DocTriage sidecar, like the Python client's `doctriage classify`.
//
//   node bin/classify.js invoice.pdf photo.jpg --address 127.0.0.1:50051
//   node bin/classify.js --json scan.png
//
// One line per file, in the order given: "path<TAB>label<TAB>confidence<TAB>decision", or
// "path<TAB>ERROR<TAB>reason<TAB>message"; with --json one JSON object per line (the
// Classification, `error` = {type, code, reason, message, retryAfter, metadata, fieldViolations,
// requestId} or null). Exit status: 0 all answered, 1 some failed, 2 bad usage.

const fs = require('node:fs');
const { parseArgs } = require('node:util');
const grpc = require('@grpc/grpc-js');
const { Client, DocTriageError, DEFAULT_ADDRESS, DEFAULT_TIMEOUT, toClassification } = require('../lib');

const USAGE = `usage: classify.js FILE... [--address HOST:PORT] [--api-key KEY] [--timeout SECONDS]
                   [--request-id ID] [--json] [--ca FILE [--cert FILE --key FILE]]

  --address     the sidecar (default $DOCTRIAGE_ADDRESS or ${DEFAULT_ADDRESS})
  --api-key     sent as "authorization: Bearer KEY" (default $DOCTRIAGE_API_KEY)
  --timeout     seconds per document (default ${DEFAULT_TIMEOUT})
  --request-id  sent as x-request-id (one file only)
  --json        one JSON object per line
  --ca          TLS: the CA certificate that signed the sidecar's; --cert/--key: mutual TLS
`;

function parse(argv) {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      address: { type: 'string', default: process.env.DOCTRIAGE_ADDRESS || DEFAULT_ADDRESS },
      'api-key': { type: 'string', default: process.env.DOCTRIAGE_API_KEY || '' },
      timeout: { type: 'string', default: String(DEFAULT_TIMEOUT) },
      'request-id': { type: 'string' },
      json: { type: 'boolean', default: false },
      ca: { type: 'string' },
      cert: { type: 'string' },
      key: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const timeout = Number(values.timeout);
  if (!Number.isFinite(timeout) || timeout <= 0) throw new Error(`bad --timeout ${values.timeout}`);
  if (!values.help && positionals.length === 0) throw new Error('no file given');
  if (values['request-id'] && positionals.length > 1) throw new Error('--request-id needs exactly one file');
  if (Boolean(values.cert) !== Boolean(values.key)) throw new Error('--cert and --key go together');
  if (values.cert && !values.ca) throw new Error('--cert/--key need --ca');
  return { ...values, timeout, files: positionals };
}

function unreadable(file) {
  try {
    if (!fs.statSync(file).isFile()) return 'not a regular file';
    fs.accessSync(file, fs.constants.R_OK);
    return '';
  } catch (error) {
    return error.code === 'ENOENT' ? 'no such file' : error.code === 'EACCES' ? 'permission denied' : error.message;
  }
}

function failed(file, error) {
  const result = toClassification({ client_ref: file, decision: 'REJECTED', request_id: error.requestId || '' });
  return { ...result, error };
}

function row(result) {
  if (result.error) {
    const e = result.error;
    return `${result.clientRef}\tERROR\t${e.reason || e.code}\t${e.serverMessage ?? e.message}`;
  }
  return `${result.clientRef}\t${result.label}\t${result.confidence.toFixed(3)}\t${result.decision}`;
}

async function main(argv) {
  let args;
  try {
    args = parse(argv);
  } catch (error) {
    process.stderr.write(`${error.message}\n${USAGE}`);
    return 2;
  }
  if (args.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  let credentials;
  if (args.ca) {
    const read = (file) => (file ? fs.readFileSync(file) : null);
    credentials = grpc.credentials.createSsl(read(args.ca), read(args.key), read(args.cert));
  }
  const client = new Client(args.address, { timeout: args.timeout, apiKey: args['api-key'], credentials });
  const results = [];
  const readable = [];
  for (const file of args.files) {
    const why = unreadable(file);
    if (why) results.push(failed(file, new DocTriageError(why, { reason: 'UNREADABLE' })));
    else readable.push(file);
  }
  try {
    if (readable.length === 1) {
      try {
        results.push(await client.classify(readable[0], { requestId: args['request-id'] }));
      } catch (error) {
        if (!(error instanceof DocTriageError)) throw error;
        results.push(failed(readable[0], error));
      }
    } else if (readable.length > 1) {
      try {
        for await (const result of client.classifyMany(readable)) results.push(result);
      } catch (error) {
        if (!(error instanceof DocTriageError)) throw error;
        const answered = new Set(results.map((r) => r.clientRef));
        for (const file of readable) if (!answered.has(file)) results.push(failed(file, error));
      }
    }
  } finally {
    client.close();
  }
  const order = new Map(args.files.map((file, i) => [file, i]));
  results.sort((a, b) => (order.get(a.clientRef) ?? order.size) - (order.get(b.clientRef) ?? order.size));
  for (const result of results) process.stdout.write(`${args.json ? JSON.stringify(result) : row(result)}\n`);
  return results.some((r) => r.error) ? 1 : 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    process.stderr.write(`${error.stack || error}\n`);
    process.exitCode = 1;
  },
);
