// Runs compiled rules on one request, as GoDoxy's rule engine does (docs/rules.md):
//   - every rule whose condition matches runs its request commands, in order, until one ends
//     the request phase (pass, error, redirect, require_basic_auth, route); later rules then
//     only get their resp_header edits scheduled if they have nothing else;
//   - the `default` rule runs only when no other rule matched;
//   - resp_header edits of rules that ran apply to the response, except for a rule that ended
//     the request phase itself.
// Pure: the request's header edits and path rewrites go through RuleRequest.
import type { Command } from './commands.ts';
import type { CompiledRule, CompiledRules } from './compile-rules.ts';
import { MatchContext } from './conditions.ts';
import { canonicalPath, decodePath, encodePath, splitTarget, type RuleRequest } from './rule-request.ts';
import { editHeaderLines } from '../../pkg/http/index.ts';

/** How the rules ended the request phase. */
export type RuleEnding =
  | { readonly kind: 'upstream' }
  | { readonly kind: 'route'; readonly to: string }
  | { readonly kind: 'error'; readonly status: number; readonly message: string }
  | { readonly kind: 'redirect'; readonly to: string }
  | { readonly kind: 'require_basic_auth'; readonly realm: string };

export interface RuleOutcome {
  readonly ending: RuleEnding;
  /** resp_header edits to apply to the response, in order. */
  readonly responseEdits: ReadonlyArray<Extract<Command, { kind: 'resp_header' }>>;
}

const UPSTREAM: RuleEnding = { kind: 'upstream' };

function rewrite(req: RuleRequest, from: string, to: string): void {
  const [raw, query] = splitTarget(req.path);
  const path = canonicalPath(decodePath(raw));
  if (!path.startsWith(from)) return;
  const next = encodePath(to + path.slice(from.length));
  req.path = query === '' ? next : `${next}?${query}`;
}

/** Runs one rule's request commands; the ending if one of them ends the request phase. */
function runPre(rule: CompiledRule, req: RuleRequest, ctx: MatchContext): RuleEnding | undefined {
  return runCommands(rule.pre, req, ctx);
}

function runCommands(cmds: readonly Command[], req: RuleRequest, ctx: MatchContext): RuleEnding | undefined {
  for (const c of cmds) {
    switch (c.kind) {
      case 'pass':
        return UPSTREAM;
      case 'error':
      case 'redirect':
      case 'require_basic_auth':
      case 'route':
        return c;
      case 'rewrite':
        rewrite(req, c.from, c.to);
        break;
      case 'header':
        req.editHeader(c.op, c.name, c.value);
        ctx.headersChanged();
        break;
      case 'if':
        if (c.test === undefined || c.test(ctx)) {
          const end = runCommands(c.commands, req, ctx);
          if (end !== undefined) return end;
        }
        break;
    }
  }
  return undefined;
}

/** Evaluates `rules` on `req` (which it may edit). */
export function runRules(rules: CompiledRules, req: RuleRequest): RuleOutcome {
  const ctx = new MatchContext(req);
  const edits: Array<Extract<Command, { kind: 'resp_header' }>> = [];
  let ending: RuleEnding | undefined;
  let matched = false;
  for (const rule of rules.rules) {
    if (rule.test !== undefined && !rule.test(ctx)) continue;
    matched = true;
    if (ending !== undefined) {
      // after the end, a rule with only response edits still gets them (GoDoxy's post-only rules)
      if (rule.pre.length === 0) edits.push(...(rule.post as typeof edits));
      continue;
    }
    const end = runPre(rule, req, ctx);
    if (end !== undefined) ending = end;
    else edits.push(...(rule.post as typeof edits));
  }
  const fb = rules.fallback;
  if (fb !== undefined && !matched && (fb.test === undefined || fb.test(ctx))) {
    const end = runPre(fb, req, ctx);
    if (end !== undefined) ending = end;
    else edits.push(...(fb.post as typeof edits));
  }
  return { ending: ending ?? UPSTREAM, responseEdits: edits };
}

/** Applies resp_header edits to a flat [name, value, …] header list in place. */
export function applyResponseEdits(headers: string[], edits: RuleOutcome['responseEdits']): void {
  for (const e of edits) editHeaderLines(headers, e.op, e.name, e.value);
}
