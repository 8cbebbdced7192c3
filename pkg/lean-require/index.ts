// Loads a CommonJS dependency without files it requires at load time but Bellhop never calls
// (they cost resident memory for nothing: dockerode's BuildKit gRPC stack, prom-client's
// OpenTelemetry API). Each left-out file is resolved from the package that requires it and put
// in the require cache, before the package loads, as a module that throws when it is used.
// The tests check that every left-out file exists, so an upgrade that moves one fails loudly.
import Module, { createRequire } from 'node:module';

/** A file to leave out: `request` as `from` (a resolved file) would require it. */
export interface LeftOut {
  /** An already resolved file of the package that requires it. */
  from: string;
  /** The specifier it is required by ('./session', '@opentelemetry/api'). */
  request: string;
  /** What it is, for the error if it is ever used. */
  what: string;
}

/** The file `request` resolves to when required from `from`. */
export function resolveFrom(from: string, request: string): string {
  return createRequire(from).resolve(request);
}

function throwing(what: string): unknown {
  const fail = (): never => {
    throw new Error(`${what} is left out of Bellhop (pkg/lean-require)`);
  };
  return new Proxy(fail, { get: (_t, key) => (key === 'then' || typeof key === 'symbol' ? undefined : fail()), apply: fail, construct: fail });
}

/** Puts a throwing stand-in in the require cache for each left-out file not loaded yet. */
export function leaveOut(parts: readonly LeftOut[]): void {
  const cache = createRequire(import.meta.url).cache;
  for (const p of parts) {
    const file = resolveFrom(p.from, p.request);
    if (cache[file] !== undefined) continue;
    const m = new Module(file);
    m.filename = file;
    m.loaded = true;
    m.exports = throwing(p.what);
    cache[file] = m;
  }
}
