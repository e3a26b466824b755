// Writes a tiny pure-Python wheel into a folder, so environment tests install a real package from a local wheelhouse, offline.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

/** The interpreter the environment tests build from: Debian's, which has scikit-learn and numpy in its system site packages. */
export const SYSTEM_PYTHON = '/usr/bin/python3';

const SCRIPT = String.raw`
import base64, hashlib, sys, zipfile
folder, name, version, value = sys.argv[1:5]
files = {
    f"{name}/__init__.py": f"VALUE = {value!r}\n",
    f"{name}-{version}.dist-info/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
    f"{name}-{version}.dist-info/WHEEL": "Wheel-Version: 1.0\nGenerator: berth-test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
}
record = []
for path, text in files.items():
    data = text.encode()
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    record.append(f"{path},sha256={digest},{len(data)}")
record.append(f"{name}-{version}.dist-info/RECORD,,")
files[f"{name}-{version}.dist-info/RECORD"] = "\n".join(record) + "\n"
wheel = f"{folder}/{name}-{version}-py3-none-any.whl"
with zipfile.ZipFile(wheel, "w") as z:
    for path, text in files.items():
        z.writestr(path, text)
print(wheel)
`;

/** Builds `<name>-<version>-py3-none-any.whl` in `folder`, whose module has `VALUE = value`; returns the wheel's path. */
export function writeWheel(folder: string, name: string, version: string, value: string): string {
  const out = execFileSync(SYSTEM_PYTHON, ['-c', SCRIPT, folder, name, version, value], { encoding: 'utf8' }).trim();
  return out || join(folder, `${name}-${version}-py3-none-any.whl`);
}
