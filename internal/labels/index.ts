// internal/labels: container labels → RouteSpec[] + errors. Pure: no I/O, no clock.

export { parseContainers } from './parse-containers.ts';
/** The input: a container as labels reads it (internal/docker's ContainerRecord fits as is), and Bellhop's own networks. */
export type { ContainerAddress, LabelledContainer, SelfNetworks } from './labelled-container.ts';
export type { ParseOptions, ParseResult } from './parse-containers.ts';
export type { RouteConflict } from './pool-assembly.ts';
export { LabelErrorCode } from './label-error-codes.ts';
export type { LabelErrorCodeName } from './label-error-codes.ts';
/** Duration text (`1h30m`) → ms, the same grammar as the config file. */
export { parseDuration } from './duration.ts';
export type { DurationResult } from './duration.ts';
/** Per-alias fields and container-level labels Bellhop knows (for docs and the admin API). */
export { CONTAINER_LEVEL, FIELDS, IGNORED_ROOTS } from './field-schema.ts';
/** Where labels mean something different under GoDoxy, for `bellhop check` (docs/migrating-from-godoxy.md). */
export { GodoxyDifferenceCode, godoxyDifferences } from './godoxy-differences.ts';
export type { GodoxyDifference } from './godoxy-differences.ts';
