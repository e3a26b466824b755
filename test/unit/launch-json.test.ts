// The VS Code attach configuration of `berth service debug --inspect`: path mappings, and merging into a launch.json with comments.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { attachConfiguration, stripJsonComments, writeLaunchJson } from '../../src/cli/launch-json.js';
import { cleanup, tempDir } from '../helpers/control-plane.js';

after(cleanup);

const target = { service: 'fraud', port: 5679, userSourceDir: '/home/ann/fraud', snapshotSourceDir: '/var/berth/services/fraud/3/source' };

test('debugpy gets pathMappings from the user\'s folder to the snapshot; Node gets localRoot/remoteRoot', () => {
  assert.deepEqual(attachConfiguration({ ...target, python: true }), {
    name: 'berth: attach to fraud', type: 'debugpy', request: 'attach', connect: { host: '127.0.0.1', port: 5679 },
    pathMappings: [{ localRoot: '/home/ann/fraud', remoteRoot: '/var/berth/services/fraud/3/source' }],
  });
  const node = attachConfiguration({ ...target, python: false });
  assert.equal(node.type, 'node');
  assert.equal(node.localRoot, '/home/ann/fraud');
  assert.equal(node.remoteRoot, '/var/berth/services/fraud/3/source');
});

test('comments and trailing commas are read; strings are left alone', () => {
  const text = '{\n  // a comment\n  "a": "http://x//y", /* block */ "b": [1, 2,],\n  "c": "a, ]",\n}';
  assert.deepEqual(JSON.parse(stripJsonComments(text)), { a: 'http://x//y', b: [1, 2], c: 'a, ]' });
});

test('written into a new launch.json, or merged into one VS Code made: same-named configuration replaced, others kept', () => {
  const dir = tempDir('berth-launch-');
  const path = join(dir, '.vscode', 'launch.json');
  const config = attachConfiguration({ ...target, python: true });
  assert.equal(writeLaunchJson(path, config), 'created');
  assert.deepEqual(JSON.parse(readFileSync(path, 'utf8')), { version: '0.2.0', configurations: [config] });
  writeFileSync(path, '{\n  // Use IntelliSense to learn about possible attributes.\n  "version": "0.2.0",\n  "configurations": [\n    { "name": "mine", "type": "debugpy", "request": "launch", "program": "${file}" },\n    { "name": "berth: attach to fraud", "type": "old" },\n  ]\n}\n');
  assert.equal(writeLaunchJson(path, { ...config, connect: { host: '127.0.0.1', port: 6000 } }), 'updated');
  const doc = JSON.parse(readFileSync(path, 'utf8')) as { configurations: Array<{ name: string; connect?: { port: number } }> };
  assert.deepEqual(doc.configurations.map((c) => c.name), ['mine', 'berth: attach to fraud']);
  assert.equal(doc.configurations[1]?.connect?.port, 6000);
  writeFileSync(path, 'not json');
  assert.throws(() => writeLaunchJson(path, config), /cannot read it as JSON/);
});
