// internal/rules: GoDoxy's rule language (docs/rules.md), pure: rules as written (block syntax or
// the older YAML list) → a compiled rule list, and a run of it on one request through the
// RuleRequest interface. No I/O; internal/middleware runs it as the `rules` stage of a route.
/** Block text or a parsed YAML list → compiled rules, or every problem (unsupported pieces marked). */
export { compileRules, looksLikeBlockRules } from './compile-rules.ts';
export type { CompiledRule, CompiledRules, CompileResult, RulesInput } from './compile-rules.ts';
/** One evaluation: how the request phase ended, and the response-header edits to apply. */
export { runRules, applyResponseEdits } from './run-rules.ts';
export type { RuleEnding, RuleOutcome } from './run-rules.ts';
export type { RuleRequest } from './rule-request.ts';
export type { RuleProblem } from './rule-text.ts';
export type { Command } from './commands.ts';
