'use strict';
// `npm pack` / `npm publish`: copy the contract (../../proto/doctriage) and the google.rpc protos it
// needs (../../third_party/googleapis, with their licence) into proto/, so that the packed client
// finds them without the repository (lib/protos.js looks there first). --clean removes the copy.

const fs = require('node:fs');
const path = require('node:path');

const here = path.join(__dirname, '..');
const repo = path.join(here, '..', '..');
const out = path.join(here, 'proto');

fs.rmSync(out, { recursive: true, force: true });
if (!process.argv.includes('--clean')) {
  fs.cpSync(path.join(repo, 'proto', 'doctriage'), path.join(out, 'doctriage'), { recursive: true });
  fs.cpSync(path.join(repo, 'third_party', 'googleapis', 'google'), path.join(out, 'google'), { recursive: true });
  fs.copyFileSync(path.join(repo, 'third_party', 'googleapis', 'LICENSE'), path.join(out, 'google', 'LICENSE'));
}
