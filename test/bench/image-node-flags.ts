// The node flags the container image starts Bellhop with: those of the Dockerfile's
// CMD ["node", <flags…>, "cmd/bellhop/main.js"], so the benchmarks run what the image runs.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export function imageNodeFlags(): string[] {
  const dockerfile = readFileSync(fileURLToPath(new URL('../../Dockerfile', import.meta.url)), 'utf8');
  const cmd = /^CMD\s+(\[.*\])\s*$/m.exec(dockerfile)?.[1];
  if (cmd === undefined) throw new Error('no CMD [...] line in the Dockerfile');
  return (JSON.parse(cmd) as string[]).slice(1).filter((a) => a.startsWith('-'));
}
