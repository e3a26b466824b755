// Coded errors of container images, the Kubernetes target and the dashboard.
import type { ErrorEntry } from '../entry.js';

export const platformErrors = {
  // --- container images (src/images) -------------------------------------------------------------
  DOCKER_UNAVAILABLE: {
    status: 503,
    message: 'the Docker engine does not answer at {endpoint}: {detail}',
    fix: 'Start it (as root): `containerd &` then `dockerd --containerd=/run/containerd/containerd.sock &`, and wait until `curl --unix-socket /var/run/docker.sock http://localhost/_ping` answers OK; or point DOCKER_HOST at a running engine (podman\'s API service works). Services on the process runtime need no Docker.',
  },
  IMAGE_BUILD_FAILED: {
    status: 500,
    message: 'building image {image} failed at {step}: {reason}{tail}\nthe whole build log: berth image logs {image}',
    fix: 'Fix what the failing step names (a requirement pip cannot find or install, a command that fails on the base image), then deploy again or run berth image build.',
  },
  IMAGE_NOT_FOUND: {
    status: 404,
    message: 'no image {image} is known to this control plane',
    fix: 'List images with: berth image list (a tag, or the first characters of its hash)',
  },
  IMAGE_PULL_FAILED: {
    status: 502,
    message: 'pulling image {image} failed: {detail}',
    fix: 'Check that the registry still has it and that the Docker config has credentials for it (docker login), then retry; berth image list shows what is local.',
  },
  REGISTRY_UNREACHABLE: {
    status: 503,
    message: 'the registry {registry} cannot be reached: {detail}',
    fix: 'Start the registry (or fix --registry HOST:PORT on berth up / berth image build); a plain-HTTP registry other than on 127.0.0.0/8 must be listed in dockerd\'s insecure-registries.',
  },
  REGISTRY_UNAUTHORIZED: {
    status: 401,
    message: 'the registry {registry} refused berth\'s request: {detail}',
    fix: 'Log in so the Docker config has credentials for it (docker login {registry}; $DOCKER_CONFIG/config.json or ~/.docker/config.json, auths entry); credential helpers are not read.',
  },
  REGISTRY_PUSH_FAILED: {
    status: 502,
    message: 'pushing image {image} failed: {detail}',
    fix: 'Check the registry accepts pushes from this user (credentials in the Docker config, repository permissions, free space), then deploy again: the built image is kept and only pushed.',
  },
  DEBOOTSTRAP_NOT_FOUND: {
    status: 500,
    message: 'debootstrap is not installed, so berth cannot make its base image',
    fix: 'Install it: apt-get install {package}; or name a base image with python3 from your registry (--base-image).',
  },
  BASE_IMAGE_BUILD_FAILED: {
    status: 500,
    message: 'making the base image {image} failed at {step}: {reason}{tail}',
    fix: 'Fix what the message names (root is needed; the Debian mirror must be reachable: pass --mirror URL), then run berth image base again; berth image base --force remakes it.',
  },
  QUICKSTART_STEP_FAILED: {
    status: 500,
    message: 'the quickstart step `{command}` failed (its error is printed above)',
    fix: 'Fix what the error above says, then run berth quickstart again: finished steps are not repeated.',
  },
  RUNTIME_UNAVAILABLE: {
    status: 503,
    message: 'replica {replica} asks for the {runtime} runtime, which this control plane does not have',
    fix: 'Start the control plane with the runtime available (for docker: a running Docker daemon; see docs/containers.md), or deploy with runtime process.',
  },
  // --- kubernetes target ------------------------------------------------------------------------
  KUBERNETES_UNREACHABLE: {
    status: 503,
    message: 'the Kubernetes API server at {server} cannot be reached: {detail}',
    fix: 'Check the cluster is up and the kubeconfig (--kubeconfig, --context) names the right server; try: kubectl --request-timeout=5s get --raw /readyz',
  },
  KUBERNETES_UNAUTHORIZED: {
    status: 502,
    message: 'the Kubernetes API server at {server} refused berth\'s credentials: {detail}',
    fix: 'Refresh the kubeconfig\'s credentials (a token or certificate that expired), or pick another context with --context.',
  },
  KUBERNETES_FORBIDDEN: {
    status: 502,
    message: 'the Kubernetes API server at {server} does not allow berth to change {what}: {detail}',
    fix: 'Grant berth\'s account the Role that `berth k8s install` renders (deployments, deployments/scale, services, pods, pods/log, events, secrets in its namespace).',
  },
  KUBERNETES_NAMESPACE_NOT_FOUND: {
    status: 502,
    message: 'namespace {namespace} does not exist on the Kubernetes API server at {server}',
    fix: 'Create it (kubectl create namespace {namespace}) or pick another with berth up --namespace.',
  },
  KUBERNETES_REQUEST_FAILED: {
    status: 502,
    message: 'the Kubernetes API server at {server} refused {what} (HTTP {status}): {detail}',
    fix: 'Read the server\'s reason above; a 422 names the field it rejects. Nothing was left half-applied: run the command again once fixed.',
  },
  KUBERNETES_IMAGE_PULL_FAILED: {
    status: 502,
    message: 'the cluster cannot pull image {image} for {pod}: {reason}: {detail}',
    fix: 'Check that the cluster\'s nodes reach the registry and may pull from it (an image pull secret for a private registry: berth up --registry with credentials in your Docker config).',
  },
  KUBERNETES_MODEL_FETCH_FAILED: {
    status: 502,
    message: 'pod {pod} could not fetch its models from the control plane at {planeUrl}: {detail}',
    fix: 'Pods download models from the control plane: make sure they reach it at that URL (berth up --plane-url), and that its admin token secret exists when it requires one.',
  },
  NO_MANIFESTS: {
    status: 409,
    message: 'service {service} has no Kubernetes manifests here: {why}',
    fix: 'Render manifests from a control plane on the Kubernetes target (berth up --target kubernetes), once the service is deployed there.',
  },
  // --- dashboard ---------------------------------------------------------------------------------
  UI_NOT_BUILT: {
    status: 503,
    message: 'the dashboard is not built: {root} has no index.html',
    fix: 'Build it with npm run build (npm install runs it too), then reload /ui; the rest of the control plane works without it.',
  },
  UI_ASSET_NOT_FOUND: {
    status: 404,
    message: 'the dashboard has no file {path}',
    fix: 'Reload the page: the control plane was upgraded or rebuilt since it was loaded, and serves newer files.',
  },
  DASHBOARD_STREAM_LIMIT: {
    status: 503,
    message: 'the dashboard already has {max} live streams open on this control plane',
    fix: 'Close dashboard tabs you do not need (each open tab holds one stream), then reload.',
  },
  DASHBOARD_STREAM_NOT_FOUND: {
    status: 404,
    message: 'no open dashboard stream {stream}',
    fix: 'The page lost its live stream (the control plane restarted, or the connection dropped); it reconnects by itself, or reload the page.',
  },
} as const satisfies Record<string, ErrorEntry>;
