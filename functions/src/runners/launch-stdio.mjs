// Starts a stdio MCP server for the bridge without a shell: the bridge runs
// `node launch-stdio.mjs <run file>` and this reads the command from the file
// the build wrote.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';

const server = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const [command, ...args] = server.command;
const child = spawn(command, args, { cwd: server.cwd, stdio: 'inherit' });
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => child.kill(signal));
}
child.on('error', (error) => {
  console.error(`could not start ${command}: ${error.message}`);
  process.exit(127);
});
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
