// `bellhop check [compose.yml]`: placeholder until the offline checker lands.
export function runCheck(_args: string[], _env: NodeJS.ProcessEnv, _cwd: string): Promise<number> {
  process.stderr.write('bellhop check: not implemented yet\n');
  return Promise.resolve(2);
}
