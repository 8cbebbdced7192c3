// Rules as written (block syntax text, or GoDoxy's older YAML list already parsed by the caller)
// → a compiled rule list, or every problem found. One `default` rule at most, as GoDoxy's README
// says (its engine would silently use the last one).
import { parseBlockRules, type RuleSource } from './block-syntax.ts';
import { parseCommands, type Command } from './commands.ts';
import { parseCondition, type Test } from './conditions.ts';
import { hasTopLevelBrace, stripComments, type RuleProblem } from './rule-text.ts';

export interface CompiledRule {
  /** `rule 2 ("path glob(/api/*)")` or the YAML name: for logs and errors. */
  readonly where: string;
  /** undefined: always matches. */
  readonly test: Test | undefined;
  /** Request-phase commands in order (everything but resp_header edits). */
  readonly pre: readonly Command[];
  /** resp_header edits, applied to the response unless this rule ended the request phase. */
  readonly post: readonly Command[];
}

export interface CompiledRules {
  /** Every rule but the default one, in order. */
  readonly rules: readonly CompiledRule[];
  /** The `default` rule: runs only when no other rule matched. */
  readonly fallback: CompiledRule | undefined;
  /** `basic_auth` matchers' (user, bcrypt hash) pairs: checked before the rules run. */
  readonly basicAuth: ReadonlyArray<readonly [string, string]>;
  /** Aliases named by `route` commands. */
  readonly routes: readonly string[];
}

export type CompileResult = { ok: true; rules: CompiledRules } | { ok: false; problems: RuleProblem[] };

/** The rules value as labels and config give it: block text, or a YAML list of {name, on, do}. */
export type RulesInput = string | readonly unknown[];

function fromList(items: readonly unknown[]): { sources: RuleSource[]; problems: RuleProblem[] } {
  const sources: RuleSource[] = [];
  const problems: RuleProblem[] = [];
  items.forEach((item, i) => {
    const where = `rule ${String(i + 1)}`;
    if (typeof item !== 'object' || item === null || Array.isArray(item)) {
      problems.push({ message: `${where}: expected a mapping with on and do` });
      return;
    }
    const fields: Record<string, string> = {};
    for (const [k, v] of Object.entries(item as Record<string, unknown>)) {
      const key = k.toLowerCase();
      if (key !== 'name' && key !== 'on' && key !== 'do') {
        problems.push({ message: `${where}: unknown key ${JSON.stringify(k)}; a rule has name, on and do` });
        continue;
      }
      if (v === null || v === undefined) continue;
      if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') {
        problems.push({ message: `${where}: ${key} must be text` });
        continue;
      }
      fields[key] = String(v);
    }
    const name = fields.name ?? '';
    const on = stripComments(fields.on ?? '') ?? '';
    sources.push({ name, on: name === 'default' ? 'default' : on.trim(), do: fields.do ?? '', where: name === '' ? where : `rule ${JSON.stringify(name)}` });
  });
  return { sources, problems };
}

/** Compiles rules; never throws. */
export function compileRules(input: RulesInput): CompileResult {
  let sources: RuleSource[];
  const problems: RuleProblem[] = [];
  if (typeof input === 'string') {
    if (input.trim() === '') return { ok: true, rules: { rules: [], fallback: undefined, basicAuth: [], routes: [] } };
    if (!hasTopLevelBrace(input)) {
      return { ok: false, problems: [{ message: 'expected rules in block syntax (`<condition> { <commands> }`) or a YAML list of rules with on and do' }] };
    }
    const r = parseBlockRules(input);
    if (!r.ok) return { ok: false, problems: [r.problem] };
    sources = r.rules;
  } else {
    const r = fromList(input);
    problems.push(...r.problems);
    sources = r.sources;
  }
  const rules: CompiledRule[] = [];
  let fallback: CompiledRule | undefined;
  const basicAuth: Array<[string, string]> = [];
  const routes = new Set<string>();
  for (const s of sources) {
    const isDefault = s.on === 'default' || s.name === 'default';
    const cond = isDefault && s.on === 'default' ? { ok: true as const, test: undefined, basicAuth: [] } : parseCondition(s.on);
    if (!cond.ok) {
      problems.push({ ...cond.problem, message: `${s.where}: ${cond.problem.message}` });
      continue;
    }
    const cmds = parseCommands(stripComments(s.do) ?? s.do);
    if (!cmds.ok) {
      problems.push({ ...cmds.problem, message: `${s.where}: ${cmds.problem.message}` });
      continue;
    }
    const pre = cmds.commands.filter((c) => c.kind !== 'resp_header');
    const post = cmds.commands.filter((c) => c.kind === 'resp_header');
    const addRoutes = (cs: readonly Command[]): void => {
      for (const c of cs) {
        if (c.kind === 'route') routes.add(c.to);
        else if (c.kind === 'if') addRoutes(c.commands);
      }
    };
    addRoutes(pre);
    basicAuth.push(...cond.basicAuth, ...cmds.basicAuth);
    const rule: CompiledRule = { where: s.where, test: cond.test, pre, post };
    if (isDefault) {
      if (fallback !== undefined) problems.push({ message: `${s.where}: a second default rule (${fallback.where} is one); keep one` });
      fallback = rule;
      continue;
    }
    rules.push(rule);
  }
  if (problems.length > 0) return { ok: false, problems };
  return { ok: true, rules: { rules, fallback, basicAuth, routes: [...routes].sort() } };
}

/** Whether text reads as block syntax first (a `{` outside quotes and comments), as in GoDoxy. */
export function looksLikeBlockRules(text: string): boolean {
  return hasTopLevelBrace(text);
}
