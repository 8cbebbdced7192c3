// GoDoxy's documented rule examples (test/fixtures/godoxy-rules/cases.yml): each parses as GoDoxy
// reads it (or is refused, naming the unsupported piece) and each request ends as GoDoxy's does.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import bcrypt from 'bcryptjs';
import { parse } from 'yaml';
import { applyResponseEdits, compileRules, looksLikeBlockRules, runRules, type RuleRequest } from './index.ts';

interface Want {
  end: string;
  to?: string;
  status?: number;
  message?: string;
  realm?: string;
  path?: string;
  headers?: Record<string, string | null>;
  resp?: Record<string, string | null>;
}
interface Req { method?: string; path: string; host?: string; headers?: Record<string, string>; remote?: string; secure?: boolean; auth?: [string, string]; route?: string; want: Want }
interface Case { name: string; source: string; godoxy: string; rules?: string; rules_list?: unknown[]; parse?: 'ok' | 'unsupported' | 'invalid'; problem?: string; requests?: Req[] }

const cases = (parse(readFileSync(new URL('../../test/fixtures/godoxy-rules/cases.yml', import.meta.url), 'utf8')) as { cases: Case[] }).cases;

function request(r: Req): RuleRequest & { headers: string[] } {
  const headers: string[] = [];
  for (const [k, v] of Object.entries(r.headers ?? {})) headers.push(k, v);
  if (r.auth !== undefined) headers.push('Authorization', `Basic ${Buffer.from(`${r.auth[0]}:${r.auth[1]}`).toString('base64')}`);
  return {
    method: r.method ?? 'GET', host: r.host ?? 'app', secure: r.secure ?? false, httpVersionMajor: 1, clientIp: r.remote ?? '172.16.0.9', route: r.route ?? 'app', path: r.path, headers,
    headerValues(name) {
      const out: string[] = [];
      for (let i = 0; i < headers.length; i += 2) if (headers[i]!.toLowerCase() === name) out.push(headers[i + 1]!);
      return out;
    },
    editHeader(op, name, value) {
      if (op !== 'add') for (let i = headers.length - 2; i >= 0; i -= 2) if (headers[i]!.toLowerCase() === name.toLowerCase()) headers.splice(i, 2);
      if (op !== 'remove') headers.push(name, value);
    },
    basicAuth(user, hash) {
      return r.auth !== undefined && r.auth[0] === user && bcrypt.compareSync(r.auth[1], hash);
    },
  };
}

describe('GoDoxy rule examples', () => {
  assert.ok(cases.length >= 20, 'at least 20 cases');
  for (const c of cases) {
    test(`${c.name} (${c.source})`, () => {
      const input = c.rules_list ?? c.rules ?? '';
      if (typeof input === 'string') assert.ok(looksLikeBlockRules(input) || input.trim() === '', 'block syntax');
      const compiled = compileRules(input);
      const want = c.parse ?? 'ok';
      if (want !== 'ok') {
        assert.equal(compiled.ok, false, `GoDoxy: ${c.godoxy}; Bellhop must refuse`);
        if (compiled.ok) return;
        const p = compiled.problems[0]!;
        assert.equal(p.unsupported === true, want === 'unsupported', p.message);
        if (c.problem !== undefined) assert.ok(p.message.includes(c.problem), `${p.message} names ${c.problem}`);
        return;
      }
      assert.ok(compiled.ok, compiled.ok ? '' : compiled.problems.map((p) => p.message).join('; '));
      for (const r of c.requests ?? []) {
        const req = request(r);
        const out = runRules(compiled.rules, req);
        const where = `${r.method ?? 'GET'} ${r.path} (GoDoxy: ${c.godoxy})`;
        assert.equal(out.ending.kind, r.want.end, where);
        const e = out.ending as Record<string, unknown>;
        for (const k of ['to', 'status', 'message', 'realm'] as const) if (r.want[k] !== undefined) assert.equal(e[k], r.want[k], `${where}: ${k}`);
        if (r.want.path !== undefined) assert.equal(req.path, r.want.path, `${where}: upstream path`);
        for (const [k, v] of Object.entries(r.want.headers ?? {})) assert.deepEqual(req.headerValues(k), v === null ? [] : [v], `${where}: request header ${k}`);
        const resp = ['X-Secret', 'from-upstream'];
        applyResponseEdits(resp, out.responseEdits);
        for (const [k, v] of Object.entries(r.want.resp ?? {})) {
          const got = resp.filter((_, i) => i % 2 === 0 && resp[i]!.toLowerCase() === k.toLowerCase()).length > 0 ? resp[resp.findIndex((n, i) => i % 2 === 0 && n.toLowerCase() === k.toLowerCase()) + 1] : null;
          assert.equal(got, v, `${where}: response header ${k}`);
        }
        if (c.name.startsWith('header edits')) assert.ok(!resp.includes('X-Secret'), 'X-Secret removed from the response');
      }
    });
  }
});
