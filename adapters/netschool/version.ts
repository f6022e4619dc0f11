/**
 * The server's version, as `GET logindata` reports it («5.10.63221», «5.43.74326.117»): it decides the
 * report hub's address and protocol (lentryd's `compareServerVersion`: 5.29 and 5.32).
 */
export type Version = readonly number[];

/** «5.43.74326.117» → [5, 43, 74326, 117]; undefined when the text is no version. */
export function serverVersion(text: string | undefined): Version | undefined {
  const match = /^\s*(\d+(?:\.\d+)+)/.exec(text ?? '');
  return match ? match[1]!.split('.').map(Number) : undefined;
}

/** Whether `version` is older than `than` ([5, 29] = 5.29.0.0). */
export function versionBefore(version: Version, than: Version): boolean {
  for (let i = 0; i < Math.max(version.length, than.length); i++) {
    const a = version[i] ?? 0;
    const b = than[i] ?? 0;
    if (a !== b) return a < b;
  }
  return false;
}

export const formatVersion = (version: Version): string => version.join('.');
