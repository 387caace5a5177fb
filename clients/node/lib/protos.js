'use strict';
// Where the .proto files are, and the two things loaded from them: the gRPC service definition
// (@grpc/proto-loader, at run time: no protoc, no generated code to keep in step) and the
// google.rpc types that error details are decoded with (protobufjs).

const fs = require('node:fs');
const path = require('node:path');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');
const protobuf = require('protobufjs');

const CONTRACT = path.join('doctriage', 'v1', 'classifier.proto');

/**
 * The include directories: $DOCTRIAGE_PROTO_PATH (separated by ":"), else the package's own
 * proto/ (filled by `npm pack`), else the repository's proto/ and third_party/googleapis/.
 */
function protoDirs() {
  const fromEnv = process.env.DOCTRIAGE_PROTO_PATH;
  if (fromEnv) return fromEnv.split(path.delimiter).filter(Boolean);
  const packed = path.join(__dirname, '..', 'proto');
  if (fs.existsSync(path.join(packed, CONTRACT))) return [packed];
  const repo = path.join(__dirname, '..', '..', '..');
  return [path.join(repo, 'proto'), path.join(repo, 'third_party', 'googleapis')];
}

function find(dirs, file) {
  for (const dir of dirs) {
    const candidate = path.join(dir, file);
    if (fs.existsSync(candidate)) return candidate;
  }
  throw new Error(`${file} is not under ${dirs.join(', ')} (set DOCTRIAGE_PROTO_PATH)`);
}

let classifierPackage = null;
let rpcRoot = null;

/** The doctriage.v1 package as @grpc/grpc-js service constructors (loaded once). */
function classifierDefinition() {
  if (classifierPackage === null) {
    const definition = protoLoader.loadSync([CONTRACT], {
      includeDirs: protoDirs(),
      keepCase: true, // field names as in the .proto (request_id), as every other client sees them
      longs: String,
      enums: String, // Decision and Source by name ("ACCEPTED")
      defaults: true,
      oneofs: true,
    });
    classifierPackage = grpc.loadPackageDefinition(definition).doctriage.v1;
  }
  return classifierPackage;
}

/** A protobufjs Root with google.rpc.Status and the error detail messages (loaded once). */
function rpcTypes() {
  if (rpcRoot === null) {
    const dirs = protoDirs();
    const root = new protobuf.Root();
    // google/protobuf/{any,duration}.proto come with protobufjs itself (looked up before this).
    root.resolvePath = (origin, target) => find(dirs, target);
    root.loadSync(['google/rpc/status.proto', 'google/rpc/error_details.proto'], { keepCase: true });
    rpcRoot = root;
  }
  return rpcRoot;
}

module.exports = { protoDirs, classifierDefinition, rpcTypes };
