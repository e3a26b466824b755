// berth model register/list/show/download/delete/verify through the real CLI and control plane: versions, dedupe,
// bad inputs that change nothing, concurrent registers, the in-use refusal, and persistence across a restart.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { berth, cleanup, down, ok, tempDir, up } from '../helpers/control-plane.js';

let home: string;
let src: string;
before(async () => {
  home = tempDir();
  src = tempDir('berth-src-');
  mkdirSync(join(src, 'outputs', 'sub'), { recursive: true });
  writeFileSync(join(src, 'outputs', 'weights.json'), '{"w": [1, 2, 3]}');
  writeFileSync(join(src, 'outputs', 'sub', 'vocab.txt'), 'a\nb\n');
  writeFileSync(join(src, 'model.pkl'), 'pickled');
  writeFileSync(join(src, 'copy-of-weights.json'), '{"w": [1, 2, 3]}');
  await up(home);
});
after(cleanup);

const sha = (s: string) => createHash('sha256').update(s).digest('hex');
const blobCount = () => readdirSync(join(home, 'blobs', 'sha256')).flatMap((d) => readdirSync(join(home, 'blobs', 'sha256', d))).length;
const listJson = async () => JSON.parse(await ok(['model', 'list', '-o', 'json'], home)) as { name: string; version: number; tags: Record<string, string> }[];

test('register prints NAME:VERSION; versions count up per name', async () => {
  assert.equal(await ok(['model', 'register', '--name', 'clf', '--path', join(src, 'model.pkl'), '--tag', 'stage=dev', '--tag', 'owner=ml', '--description', 'first cut'], home), 'clf:1\n');
  assert.equal(await ok(['model', 'register', '--name', 'clf', '--path', join(src, 'outputs')], home), 'clf:2\n');
  assert.equal(await ok(['model', 'register', '--name', 'other.model_v-2', '--path', join(src, 'model.pkl')], home), 'other.model_v-2:1\n');
});

test('list prints an aligned table, or JSON; --name filters', async () => {
  const table = (await ok(['model', 'list'], home)).trimEnd().split('\n');
  assert.match(table[0]!, /^NAME +VERSION +FILES +SIZE +CREATED +TAGS$/);
  assert.match(table[1]!, /^clf +1 +1 +7 B +\S+ +stage=dev,owner=ml$/);
  assert.match(table[2]!, /^clf +2 +2 +20 B /);
  assert.equal(table[0]!.indexOf('VERSION') + 'VERSION'.length, table[1]!.indexOf('1 ') + 1, 'versions right-aligned under the header');
  const all = await listJson();
  assert.deepEqual(all.map((m) => `${m.name}:${m.version}`), ['clf:1', 'clf:2', 'other.model_v-2:1']);
  const only = JSON.parse(await ok(['model', 'list', '--name', 'other.model_v-2', '-o', 'json'], home)) as unknown[];
  assert.equal(only.length, 1);
});

test('show gives files with sizes and digests, tags and created time; NAME alone is the latest', async () => {
  const latest = JSON.parse(await ok(['model', 'show', 'clf', '-o', 'json'], home)) as { version: number; files: { path: string; size: number; digest: string }[] };
  assert.equal(latest.version, 2);
  assert.deepEqual(latest.files, [
    { path: 'outputs/sub/vocab.txt', size: 4, digest: sha('a\nb\n') },
    { path: 'outputs/weights.json', size: 16, digest: sha('{"w": [1, 2, 3]}') },
  ]);
  const text = await ok(['model', 'show', 'clf:1'], home);
  assert.match(text, /^model: +clf:1$/m);
  assert.match(text, /^tags: +stage=dev,owner=ml$/m);
  assert.match(text, /^description: +first cut$/m);
  assert.match(text, /^created: +\d{4}-/m);
  assert.match(text, new RegExp(`^model\\.pkl +7 +${sha('pickled')}$`, 'm'));
});

test('identical content is stored once', async () => {
  const before = blobCount();
  assert.equal(await ok(['model', 'register', '--name', 'dup', '--path', join(src, 'copy-of-weights.json')], home), 'dup:1\n');
  assert.equal(await ok(['model', 'register', '--name', 'dup', '--path', join(src, 'outputs')], home), 'dup:2\n');
  assert.equal(blobCount(), before, 'no new blob: every file matched stored content');
});

test('download writes the files under their paths, checked against their digests', async () => {
  const to = join(tempDir('berth-dl-'), 'fresh');
  assert.match(await ok(['model', 'download', 'clf:2', '--to', to], home), /downloaded clf:2 \(2 file\(s\)/);
  assert.equal(readFileSync(join(to, 'outputs', 'weights.json'), 'utf8'), '{"w": [1, 2, 3]}');
  assert.equal(readFileSync(join(to, 'outputs', 'sub', 'vocab.txt'), 'utf8'), 'a\nb\n');
  const again = await berth(['model', 'download', 'clf:2', '--to', to], { home });
  assert.equal(again.code, 2);
  assert.match(again.stderr, /already exists/);
});

test('bad inputs: one line, non-zero exit, nothing changed', async () => {
  const before = await listJson();
  const blobs = blobCount();
  const cases: [string[], RegExp, number][] = [
    [['model', 'register', '--name', 'has space', '--path', join(src, 'model.pkl')], /^berth: invalid model name "has space"/, 2],
    [['model', 'register', '--name', '-dash', '--path', join(src, 'model.pkl')], /^berth: invalid model name/, 2],
    [['model', 'register', '--name', 'x'.repeat(256), '--path', join(src, 'model.pkl')], /^berth: invalid model name/, 2],
    [['model', 'register', '--name', 'ok', '--path', join(src, 'missing.pkl')], /^berth: path .*missing\.pkl does not exist/, 2],
    [['model', 'register', '--name', 'ok', '--path', join(src, 'model.pkl'), '--tag', 'novalue'], /^berth: invalid tag "novalue"/, 2],
    [['model', 'register', '--name', 'ok', '--path', join(src, 'model.pkl'), '--tag', 'a=1', '--tag', 'a=2'], /^berth: tag "a" is given twice/, 2],
    [['model', 'register', '--name', 'ok', '--path', tempDir('berth-empty-')], /^berth: .* holds no files/, 2],
    [['model', 'register', '--path', join(src, 'model.pkl')], /required option '--name <name>'/, 2],
    [['model', 'show', 'clf:9'], /^berth: model clf:9 not found/, 1],
    [['model', 'show', 'nope'], /^berth: model nope not found/, 1],
    [['model', 'show', 'clf:one'], /^berth: invalid model version "one"/, 2],
    [['model', 'delete', 'clf'], /^berth: give the version to act on: clf:VERSION/, 2],
    [['model', 'list', '-o', 'yaml'], /argument 'yaml' is invalid/, 2],
  ];
  for (const [args, message, code] of cases) {
    const run = await berth(args, { home });
    assert.equal(run.code, code, `${args.join(' ')} → exit ${code}: ${run.stderr}`);
    assert.match(run.stderr, message, args.join(' '));
    if (run.stderr.startsWith('berth:')) assert.match(run.stderr, /^berth: [^\n]+\n  fix: [^\n]+\n$/, 'one line and a fix');
  }
  assert.deepEqual(await listJson(), before);
  assert.equal(blobCount(), blobs);
});

test('concurrent registers of one name get distinct, consecutive versions', async () => {
  const runs = await Promise.all(
    Array.from({ length: 6 }, (_, i) => {
      const file = join(src, `concurrent-${i}.bin`);
      writeFileSync(file, `payload ${i} `.repeat(10_000 * (i + 1)));
      return ok(['model', 'register', '--name', 'conc', '--path', file], home);
    }),
  );
  assert.deepEqual(runs.map((r) => r.trim()).sort(), ['conc:1', 'conc:2', 'conc:3', 'conc:4', 'conc:5', 'conc:6']);
});

test('delete removes one version; a version a service uses is refused with 409 MODEL_IN_USE', async () => {
  assert.equal(await ok(['model', 'delete', 'dup:1'], home), 'deleted dup:1\n');
  assert.deepEqual((await listJson()).filter((m) => m.name === 'dup').map((m) => m.version), [2]);
  // The services part will fill service_models; until then the seam is exercised by writing the row directly.
  const db = new Database(join(home, 'berth.db'));
  db.prepare("INSERT INTO service_models (service, model_name, model_version) VALUES ('fraud-scorer', 'clf', 1)").run();
  db.close();
  const refused = await berth(['model', 'delete', 'clf:1'], { home });
  assert.equal(refused.code, 1);
  assert.equal(refused.stderr, 'berth: model clf:1 is used by service(s) fraud-scorer\n  fix: Delete or update those services first.\n');
  assert.ok((await listJson()).some((m) => m.name === 'clf' && m.version === 1));
});

test('everything survives a restart; stored files still verify', async () => {
  const before = await listJson();
  await down(home);
  await up(home);
  assert.deepEqual(await listJson(), before);
  assert.match(await ok(['model', 'verify'], home), /all digests match/);
  assert.equal(await ok(['model', 'register', '--name', 'clf', '--path', join(src, 'model.pkl')], home), 'clf:3\n');
  const status = JSON.parse(await ok(['status', '-o', 'json'], home)) as { models: { names: number; versions: number } };
  assert.equal(status.models.names, 4);
});
