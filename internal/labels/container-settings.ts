// Container-level labels (docs/labels.md): aliases, exclude, network and the sleep/wake settings.

import type { IdleSpec } from '../routes/index.ts';
import type { LabelledContainer } from './labelled-container.ts';
import { parseIdleIgnore } from './idle-ignore.ts';
import type { LabelProblem } from './label-collect.ts';
import { LabelErrorCode as C } from './label-error-codes.ts';
import { checkAlias, readBool, readDuration, readList, readPath, readSignal, readStopMethod, readText } from './value-parsers.ts';
import type { Parsed } from './value-parsers.ts';

export interface ContainerSettings {
  /** Declared aliases (proxy.aliases) or the default one, lower-cased, unique, in order; `#N` counts these. */
  aliases: string[];
  /**
   * Without proxy.aliases, a compose container whose service name differs from its container
   * name also answers the service name (docs/labels.md, "Default aliases"): a second name of
   * the default alias, set by the same labels, that yields to any other container's alias.
   */
  serviceAlias?: string | undefined;
  exclude: boolean;
  network?: string | undefined;
  /** Present only with a positive proxy.idle_timeout. */
  idle?: IdleSpec | undefined;
}

const WAKE_TIMEOUT_MS = 3 * 60_000;
const STOP_TIMEOUT_MS = 30_000;
const DEPENDENCY = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

/**
 * The aliases a container gets without proxy.aliases: its container name, as in GoDoxy
 * (`container_name`, else compose's `<project>-<service>-N`), and for compose its service
 * name too (Bellhop's older default). A Swarm task (`<service>.<slot>`) answers its service only.
 */
export function defaultAliases(rec: LabelledContainer): { primary: string; service?: string | undefined } {
  const service = rec.composeService?.toLowerCase();
  if (rec.networkMode === 'swarm' && service !== undefined && service !== '') return { primary: service };
  const name = rec.name.toLowerCase();
  if (service === undefined || service === '' || service === name) return { primary: name };
  // A container name that is no host name (never from compose) leaves the service name alone.
  if (!checkAlias(name).ok) return { primary: service };
  return checkAlias(service).ok ? { primary: name, service } : { primary: name };
}

export function parseContainerSettings(rec: LabelledContainer, raw: Map<string, { value: string; label: string }>, problems: LabelProblem[]): ContainerSettings {
  function read<T>(name: string, reader: (v: unknown) => Parsed<T>): T | undefined {
    const e = raw.get(name);
    if (e === undefined) return undefined;
    const r = reader(e.value);
    if (!r.ok) {
      problems.push({ code: r.code, key: e.label, message: r.message });
      return undefined;
    }
    return r.value;
  }

  const aliases: string[] = [];
  const aliasList = read('aliases', readList);
  for (const item of aliasList ?? []) {
    const a = checkAlias(item);
    if (!a.ok) problems.push({ code: a.code, key: raw.get('aliases')?.label ?? 'proxy.aliases', message: a.message });
    else if (!aliases.includes(a.value)) aliases.push(a.value);
  }
  let serviceAlias: string | undefined;
  if (aliases.length === 0 && (aliasList === undefined || aliasList.length === 0)) {
    const def = defaultAliases(rec);
    const d = checkAlias(def.primary);
    if (d.ok) {
      aliases.push(d.value);
      serviceAlias = def.service;
    } else problems.push({ code: C.BAD_ALIAS, key: 'proxy.aliases', message: `the container name cannot be used as an alias (${d.message}); set proxy.aliases` });
  }

  const exclude = read('exclude', readBool) ?? false;
  const network = read('network', readText);
  const idleTimeoutMs = read('idle_timeout', (v) => readDuration(v, 'idle_timeout', true));
  const wakeTimeoutMs = read('wake_timeout', (v) => readDuration(v, 'wake_timeout', false)) ?? WAKE_TIMEOUT_MS;
  const stopTimeoutMs = read('stop_timeout', (v) => readDuration(v, 'stop_timeout', true)) ?? STOP_TIMEOUT_MS;
  const stopMethod = read('stop_method', readStopMethod) ?? 'stop';
  const stopSignal = read('stop_signal', readSignal);
  const startEndpoint = read('start_endpoint', (v) => {
    // GoDoxy strips a `#fragment`; an empty value means "any path may wake".
    const t = readText(v);
    if (!t.ok || t.value === '') return t;
    return readPath(t.value, 'start_endpoint');
  });
  const noLoadingPage = read('no_loading_page', readBool) ?? false;
  const ignore = parseIdleIgnore(raw, problems);

  const dependsOn: string[] = [];
  const depLabel = raw.get('depends_on')?.label ?? 'proxy.depends_on';
  for (const item of read('depends_on', readList) ?? []) {
    // compose style `db:service_healthy`: the condition is the wake order's business, not ours.
    const name = item.replace(/:(service_started|service_healthy|service_completed_successfully)$/, '');
    if (!DEPENDENCY.test(name)) problems.push({ code: C.BAD_DEPENDENCY, key: depLabel, message: `depends_on entry "${item}" is not a container or service name` });
    else if (!dependsOn.includes(name)) dependsOn.push(name);
  }
  for (const dep of rec.composeDependsOn) if (!dependsOn.includes(dep)) dependsOn.push(dep);

  const settings: ContainerSettings = { aliases, serviceAlias, exclude, network: network === '' ? undefined : network };
  if (idleTimeoutMs !== undefined && idleTimeoutMs > 0) {
    settings.idle = {
      idleTimeoutMs,
      wakeTimeoutMs,
      stopTimeoutMs,
      stopMethod,
      stopSignal,
      startEndpoint: startEndpoint === '' ? undefined : startEndpoint,
      noLoadingPage,
      dependsOn,
    };
    if (ignore !== undefined) settings.idle.ignore = ignore;
  }
  return settings;
}
