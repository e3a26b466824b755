// Which lists of the built-in types are associative (x-kubernetes-list-type: map) and by which keys, as the OpenAPI declares them.

/** Keys of the list at the end of `names` (field names from the object's root), or undefined for atomic lists. */
export function listKeysOf(names: readonly string[]): readonly string[] | undefined {
  const field = names[names.length - 1];
  const parent = names[names.length - 2];
  switch (field) {
    case 'containers':
    case 'initContainers':
    case 'ephemeralContainers':
    case 'env':
    case 'volumes':
    case 'imagePullSecrets':
    case 'resourceClaims':
    case 'hostAliases':
      return field === 'hostAliases' ? ['ip'] : ['name'];
    case 'volumeMounts':
      return ['mountPath'];
    case 'volumeDevices':
      return ['devicePath'];
    case 'ownerReferences':
      return ['uid'];
    case 'conditions':
      return ['type'];
    case 'topologySpreadConstraints':
      return ['topologyKey', 'whenUnsatisfiable'];
    case 'ports':
      // Container ports are keyed by containerPort and protocol, a Service's by port and protocol.
      return parent === 'spec' && names.length === 2 ? ['port', 'protocol'] : ['containerPort', 'protocol'];
    default:
      return undefined;
  }
}
