// The images part of berth (DESIGN.md "Images and targets"): container images built from an environment and a source
// snapshot as a chain of content-tagged layers (base → runtime → env → app), reused, pulled or built, and pushed.
//
// Used by the composition root (src/control/app.ts), which makes it on first use (`plane.images()`, so the plane starts
// without Docker), and by the docker replica runtime:
//
//   const images = new Images({ docker: new DockerConnection(env), db, home, registry, baseImage, logger, clock, env, inUse });
//   const image = await images.ensure({ service, environment, sourceDir }, signal, (step) => events.push(step));
//   // run image.ref with: [image.node, image.berthBin, 'serve', '--python', image.python, '--entry-script', `${image.appRoot}/score.py`, ...]
//   // and the variables in image.env.
//
// ensure() throws coded errors: DOCKER_UNAVAILABLE, IMAGE_BUILD_FAILED (the step and its last output lines; the whole
// log with `berth image logs TAG`), REGISTRY_UNREACHABLE, REGISTRY_UNAUTHORIZED, REGISTRY_PUSH_FAILED, IMAGE_PULL_FAILED,
// DEBOOTSTRAP_NOT_FOUND and BASE_IMAGE_BUILD_FAILED (when the default base has to be made first). A service's
// environment becomes an input with imageEnvironment(environments, { name, version }). Prune keeps what `inUse()`
// returns (tags, refs or image ids of running generations) and each existing service's latest image.
export { Images, type BuiltImage, type ImageInputs, type ImagesDeps } from './images.js';
export type { ImageEnvironment } from './plan.js';
export { imageEnvironment } from './environment.js';
export { DockerConnection, dockerClient, dockerEndpoint, type Docker } from './docker.js';
export { BASE_IMAGE, type BaseBuildResult } from './base-image.js';
export { APP_ROOT } from './dockerfile.js';
export type { ImageView, PruneReport, BuildImageRequest } from './schema.js';
export type { Outcome } from './store.js';
export type { LayerKind } from './tags.js';
