// The Dockerfile of each layer, generated: runtime (Node.js + berth), env (dependencies installed offline), app (the source).
export const APP_ROOT = '/var/azureml-app';
export const BERTH_ROOT = '/opt/berth';
export const NODE_IN_IMAGE = '/usr/local/bin/node';
export const BERTH_BIN_IN_IMAGE = `${BERTH_ROOT}/bin/berth.js`;
export const ENV_ROOT = '/opt/berth-env';
export const VENV = `${ENV_ROOT}/venv`;
export const VENV_PYTHON = `${VENV}/bin/python`;
export const NODE_MODULES_IN_IMAGE = `${ENV_ROOT}/node_modules`;
/** Where the wheelhouse sits in the build context, and in the throw-away build stage. */
export const WHEELS_DIR = '/tmp/berth-wheels';
export const LOCK_FILE = 'requirements.lock.txt';

const json = (argv: readonly string[]): string => JSON.stringify(argv);

/** The runtime layer; its two checks fail the build right here when the host's node cannot run on the base. */
export function runtimeDockerfile(base: string): string {
  return [
    '# berth runtime layer: the host\'s Node.js binary and berth\'s own runtime files',
    `FROM ${base}`,
    `COPY node ${NODE_IN_IMAGE}`,
    `COPY berth/ ${BERTH_ROOT}/`,
    `RUN ${json([NODE_IN_IMAGE, '--version'])}`,
    `RUN ${json([NODE_IN_IMAGE, BERTH_BIN_IN_IMAGE, '--version'])}`,
    '',
  ].join('\n');
}

export interface PythonEnvLayer {
  readonly kind: 'python';
  /** The base's interpreter the virtualenv is made from. */
  readonly python: string;
  readonly systemSitePackages: boolean;
  /** False when the lock is empty: then the virtualenv needs no pip. */
  readonly install: boolean;
}

export interface NodeEnvLayer {
  readonly kind: 'node';
}

/**
 * The env layer. Python: the wheels are copied into a build stage only, installed there with no index (hashes
 * required), and just the virtualenv is copied on, so the image does not carry the wheels twice.
 */
export function envDockerfile(from: string, layer: PythonEnvLayer | NodeEnvLayer): string {
  if (layer.kind === 'node') {
    return [
      '# berth env layer: the environment\'s node_modules, installed on the host with npm',
      `FROM ${from}`,
      `COPY env/ ${ENV_ROOT}/`,
      `ENV NODE_PATH=${NODE_MODULES_IN_IMAGE}`,
      '',
    ].join('\n');
  }
  const venvArgs = [layer.python, '-m', 'venv', ...(layer.systemSitePackages ? ['--system-site-packages'] : []), ...(layer.install ? [] : ['--without-pip']), VENV];
  const install = [VENV_PYTHON, '-m', 'pip', 'install', '--no-index', '--find-links', WHEELS_DIR, '--require-hashes', '--no-cache-dir', '--disable-pip-version-check', '--no-input', '-r', `${WHEELS_DIR}/${LOCK_FILE}`];
  return [
    '# berth env layer: the environment\'s packages, resolved and downloaded on the host, installed here with no network',
    `FROM ${from} AS install`,
    'LABEL berth.stage=install',
    `COPY wheels/ ${WHEELS_DIR}/`,
    `RUN ${json(venvArgs)}`,
    ...(layer.install ? [`RUN ${json(install)}`] : []),
    `FROM ${from}`,
    `COPY --from=install ${ENV_ROOT} ${ENV_ROOT}`,
    // The lock travels with the image: what is installed, with the hashes it was checked against.
    `COPY wheels/${LOCK_FILE} ${ENV_ROOT}/${LOCK_FILE}`,
    `ENV VIRTUAL_ENV=${VENV} PATH=${VENV}/bin:$PATH`,
    '',
  ].join('\n');
}

/** The app layer: the source at /var/azureml-app, AML_APP_ROOT, and the environment's variables. */
export function appDockerfile(from: string, variables: Readonly<Record<string, string>>): string {
  const baked = Object.entries(variables).filter(([, v]) => bakeable(v)).sort(([a], [b]) => (a < b ? -1 : 1));
  return [
    '# berth app layer: the source snapshot',
    `FROM ${from}`,
    `COPY app/ ${APP_ROOT}/`,
    `ENV AML_APP_ROOT=${APP_ROOT}`,
    ...baked.map(([k, v]) => `ENV ${k}=${quoteEnv(v)}`),
    `WORKDIR ${APP_ROOT}`,
    '',
  ].join('\n');
}

/**
 * A Dockerfile ENV value cannot hold a line break: such variables are left out of the image and given to the container
 * when it starts (BuiltImage.env always carries every variable).
 */
export function bakeable(value: string): boolean {
  return !/[\r\n]/.test(value);
}

/** Double-quoted for the Dockerfile: backslash, quote and `$` escaped, so nothing is expanded. */
export function quoteEnv(value: string): string {
  return `"${value.replace(/[\\"$]/g, (c) => `\\${c}`)}"`;
}
