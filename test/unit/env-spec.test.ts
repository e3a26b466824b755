// Environment specs: requirements and conda parsing, normalisation into one cache key, and how pip's failures are told apart.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isValidConstraint, parseCondaFile, satisfiesConstraint } from '../../src/control/environments/conda.js';
import { parseEnvRef, parseVariables, type Interpreter } from '../../src/control/environments/env-schema.js';
import { renderFailure } from '../../src/control/environments/environments.js';
import { classifyPipFailure } from '../../src/control/environments/python-build.js';
import { parseRequirementLines } from '../../src/control/environments/requirements.js';
import { runtimeFor } from '../../src/control/environments/runtime.js';
import { buildDigest, canonicalJson, normalizeEnvironment } from '../../src/control/environments/spec.js';
import { BerthError } from '../../src/errors/catalogue.js';

const cpython = (version = '3.11.2'): Interpreter => ({ executable: '/usr/bin/python3', implementation: 'CPython', version });
const deps = (version?: string) => ({ probe: async () => cpython(version), nodeVersion: '20.0.0' });
const specOf = (req: Record<string, unknown>, version?: string) => normalizeEnvironment({ name: 'e', description: '', ...req }, deps(version));

test('requirements: comments, continuations and index options are read; names follow pip\'s rule, spacing does not matter', () => {
  const text = [
    '# a comment',
    'Scikit_Learn >= 1.0   # trailing comment',
    'numpy \\',
    '  ==1.24.2',
    'requests[socks, Security] ; python_version >= "3.8"',
    'pkg @ https://example.test/pkg.whl#egg=pkg',
    '--index-url https://mirror.test/simple',
    '--extra-index-url=https://extra.test/simple',
    '-f ./wheels',
    '--no-index',
    '',
  ];
  const parsed = parseRequirementLines(text, { file: 'requirements.txt', baseDir: '/src' });
  assert.deepEqual(parsed.requirements, [
    'numpy==1.24.2',
    'pkg @ https://example.test/pkg.whl#egg=pkg',
    'requests[security,socks] ; python_version >= "3.8"',
    'scikit-learn>=1.0',
  ]);
  assert.equal(parsed.pip.index_url, 'https://mirror.test/simple');
  assert.deepEqual(parsed.pip.extra_index_urls, ['https://extra.test/simple']);
  assert.deepEqual(parsed.pip.find_links, ['/src/wheels']);
  assert.equal(parsed.pip.no_index, true);
});

test('requirements: includes, editables and unknown options are refused, naming the line', () => {
  const refuse = (line: string, re: RegExp) => assert.throws(() => parseRequirementLines([line], { file: 'requirements.txt' }), (e: BerthError) => e.code === 'ENVIRONMENT_SPEC_INVALID' && re.test(e.message));
  refuse('-r base.txt', /unsupported option line "-r base.txt": include the lines of that file instead/);
  refuse('-e ./pkg', /unsupported option line "-e \.\/pkg"/);
  refuse('--pre', /unsupported option line "--pre"/);
  refuse('--find-links ./rel', /relative path "\.\/rel" needs the folder/);
  refuse('==1.0', /cannot read the requirement "==1.0"/);
});

test('the digest ignores order, spelling, variables and the file it came from, and follows the interpreter version', async () => {
  const a = await specOf({ requirements: 'numpy==1.24.2\nscikit-learn', system_site_packages: true, variables: { A: '1' } });
  const b = await specOf({ conda: 'dependencies:\n  - pip:\n    - Scikit_Learn\n    - numpy == 1.24.2\n', system_site_packages: true, variables: { A: '2' } });
  assert.equal(buildDigest(a.build), buildDigest(b.build));
  assert.notDeepEqual(a.variables, b.variables);
  assert.equal((a.build.kind === 'python' && a.build.interpreter.version), '3.11.2');
  const otherPython = await specOf({ requirements: 'numpy==1.24.2\nscikit-learn', system_site_packages: true }, '3.11.3');
  assert.notEqual(buildDigest(otherPython.build), buildDigest(a.build));
  const isolated = await specOf({ requirements: 'numpy==1.24.2\nscikit-learn' });
  assert.notEqual(buildDigest(isolated.build), buildDigest(a.build));
  assert.equal(canonicalJson({ b: 1, a: [{ d: 1, c: 2 }] }), '{"a":[{"c":2,"d":1}],"b":1}');
});

test('conda YAML: the python constraint is checked against the interpreter; the pip section and variables are used', async () => {
  const yaml = 'name: scoring\nchannels: [conda-forge]\ndependencies:\n  - python=3.11\n  - pip\n  - pip:\n    - --no-index\n    - scikit-learn\nvariables:\n  MODEL_KIND: sk\n';
  const spec = await specOf({ conda: yaml, variables: { EXTRA: 'x' } });
  assert.equal(spec.source, 'conda');
  assert.equal(spec.conda_python, '=3.11');
  assert.deepEqual(spec.variables, { MODEL_KIND: 'sk', EXTRA: 'x' });
  assert.ok(spec.build.kind === 'python' && spec.build.pip.no_index && spec.build.requirements[0] === 'scikit-learn');
  await assert.rejects(specOf({ conda: yaml.replace('python=3.11', 'python=3.8') }), /asks for python=3\.8, but python3 is CPython 3\.11\.2; pass --python/);
  await assert.rejects(specOf({ conda: yaml.replace('  - pip\n', '  - pip\n  - numpy=1.24\n  - conda-forge::scipy\n') }), /conda packages are not supported.*: numpy=1\.24, conda-forge::scipy; list them under "- pip:"/);
  assert.throws(() => parseCondaFile('dependencies: [python=3.11]\nbuild: x\n'), /unknown key\(s\) build/);
  assert.throws(() => parseCondaFile(': : :'), /not valid YAML/);
});

test('conda constraints: prefix, exact and ranges, segment by segment', () => {
  const cases: [string, string, boolean][] = [
    ['3.11.2', '=3.11', true], ['3.11.2', '=3.1', false], ['3.11.2', '=3.11.*', true], ['3.11.2', '==3.11.2', true],
    ['3.11.2', '==3.11', false], ['3.11.2', '>=3.9,<3.12', true], ['3.12.0', '>=3.9,<3.12', false], ['3.11.2', '!=3.11.2', false],
  ];
  for (const [version, constraint, expected] of cases) assert.equal(satisfiesConstraint(version, constraint), expected, `${version} ${constraint}`);
  assert.equal(isValidConstraint('>=3.9,<3.12'), true);
  assert.equal(isValidConstraint('~=3.9'), false);
});

test('package.json: file: dependencies become absolute; Python-only flags and two files are refused', async () => {
  const spec = await specOf({ package_json: '{"dependencies": {"local": "file:../lib", "left-pad": "^1.3.0"}}', base_dir: '/srv/app' });
  assert.ok(spec.build.kind === 'node');
  assert.deepEqual(spec.build.package_json.dependencies, { local: 'file:/srv/lib', 'left-pad': '^1.3.0' });
  await assert.rejects(specOf({ package_json: '{}', system_site_packages: true }), /system_site_packages applies to Python environments only/);
  await assert.rejects(specOf({ package_json: '{}', requirements: 'x' }), /give one file/);
  await assert.rejects(specOf({ package_json: '[1]' }), /not a JSON object/);
});

test('pip failures: a missing distribution with an unreachable index is PACKAGE_INDEX_UNREACHABLE, naming the index and the network error', () => {
  const output = 'Looking in indexes: https://pypi.org/simple\nERROR: Could not find a version that satisfies the requirement x==9.9 (from versions: none)\nERROR: No matching distribution found for x==9.9\n';
  const debug = "2026 Could not fetch URL https://pypi.org/simple/x/: connection error: HTTPSConnectionPool(host='pypi.org', port=443): Max retries exceeded (Caused by NewConnectionError('...: Failed to establish a new connection: [Errno -2] Name or service not known')) - skipping\n";
  const step = { code: 1, signal: null, timedOut: false, aborted: false, output };
  const unreachable = classifyPipFailure(step, debug);
  assert.equal(unreachable.code, 'PACKAGE_INDEX_UNREACHABLE');
  assert.equal(unreachable.params.indexes, 'https://pypi.org/simple/ (Name or service not known)');
  assert.match(unreachable.params.reason!, /pip install exited with code 1: No matching distribution found for x==9\.9/);
  const missing = classifyPipFailure(step, '');
  assert.equal(missing.code, 'ENVIRONMENT_BUILD_FAILED');
  const err = renderFailure(missing, 'bad:1');
  assert.match(err.message, /^building environment bad:1 failed: pip install exited with code 1: No matching distribution found for x==9\.9\n {2}\| Looking in indexes/);
  assert.match(err.message, /\n {2}\| ERROR: No matching distribution found for x==9\.9\nthe whole build log: berth env logs bad:1$/);
  assert.match(err.fix, /berth env build bad:1/);
});

test('references, variables and the runtime a replica gets', () => {
  assert.deepEqual(parseEnvRef('sk'), { name: 'sk' });
  assert.deepEqual(parseEnvRef('sk:latest'), { name: 'sk' });
  assert.deepEqual(parseEnvRef('AzureML-sklearn-1.0:3'), { name: 'AzureML-sklearn-1.0', version: 3 });
  assert.throws(() => parseEnvRef('sk:0'), /invalid environment version "0"/);
  assert.deepEqual(parseVariables(['A=1', 'B=x=y', 'C=']), { A: '1', B: 'x=y', C: '' });
  assert.throws(() => parseVariables(['A']), /write variables as NAME=value/);
  assert.throws(() => parseVariables(['A=1', 'A=2']), /given twice/);
  assert.throws(() => parseVariables(['AZUREML_MODEL_DIR=/x']), /set by berth/);
  assert.throws(() => parseVariables(['1A=x']), /does not start with a digit/);
  const spec = { build: { kind: 'python' as const, interpreter: cpython(), system_site_packages: false, requirements: [], pip: { extra_index_urls: [], find_links: [], no_index: false, trusted_hosts: [] } }, variables: { GREETING: 'hi' }, source: 'none' as const };
  const rt = runtimeFor('e:1', 'abc', spec, '/home/envs/abc', '/usr/bin:/bin');
  assert.equal(rt.python, '/home/envs/abc/venv/bin/python');
  assert.deepEqual(rt.env, { GREETING: 'hi', VIRTUAL_ENV: '/home/envs/abc/venv', PATH: '/home/envs/abc/venv/bin:/usr/bin:/bin' });
});
