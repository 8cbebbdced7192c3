// Which containers are routed at all (docs/labels.md): labelled ones always; with docker.expose_all also
// unlabelled ones, except obvious databases and caches, which nobody means to publish by name.

import type { LabelledContainer } from './labelled-container.ts';

/** True when the container has any `proxy.` label: it opted in. */
export function isExplicit(rec: LabelledContainer): boolean {
  for (const k of Object.keys(rec.labels)) if (k === 'proxy' || k.startsWith('proxy.')) return true;
  return false;
}

const DATABASE_IMAGES = new Set([
  'postgres', 'postgresql', 'postgis', 'timescaledb', 'mysql', 'mariadb', 'percona', 'mongo', 'mongodb', 'redis', 'redis-stack-server',
  'valkey', 'keydb', 'dragonfly', 'memcached', 'elasticsearch', 'opensearch', 'meilisearch', 'solr', 'rabbitmq', 'couchdb', 'neo4j',
  'influxdb', 'clickhouse-server', 'cassandra', 'scylla', 'cockroach', 'etcd', 'zookeeper', 'kafka', 'nats', 'telegraf',
]);
const DATABASE_PORTS = new Set([5432, 3306, 6379, 11211, 27017, 9200, 5672, 9042, 2181, 2379, 4222]);

/** The image's repository base name: `ghcr.io/x/redis:7@sha256:…` → `redis`. */
export function imageBaseName(image: string): string {
  const noDigest = image.split('@')[0] ?? image;
  const lastSlash = noDigest.lastIndexOf('/');
  const last = noDigest.slice(lastSlash + 1);
  return (last.split(':')[0] ?? last).toLowerCase();
}

/** Databases, caches and brokers by image name, or by exposing only their well-known ports. */
export function looksLikeDatabase(rec: LabelledContainer): boolean {
  if (DATABASE_IMAGES.has(imageBaseName(rec.image))) return true;
  return rec.exposedPorts.length > 0 && rec.exposedPorts.every((p) => DATABASE_PORTS.has(p));
}

/** Build helpers and the like that expose_all must not route. */
export function isInfrastructure(rec: LabelledContainer): boolean {
  return rec.name.startsWith('buildx_');
}
