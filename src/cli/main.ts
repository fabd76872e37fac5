#!/usr/bin/env node
// `sluice` command line: serve | dev | worker | token | nginx-config | migrate | audit-bucket |
// buckets | sign | keys | reencrypt | encrypt-file | decrypt-file | imgproxy-env | results.
import cluster from 'node:cluster';
import { Command } from 'commander';
import { ConfigError } from '../config/errors.js';
import { loadAuthConfig, loadConfig } from '../config/load.js';
import { devCommand } from './dev.js';
import { nginxConfigCommand } from './nginx-config-command.js';
import { serveCommand } from './serve.js';
import { tokenCommand } from './token-command.js';
import { workerCommand } from './worker-command.js';
import { auditBucketCommand } from './audit-bucket-command.js';
import { bucketsCommand } from './buckets-command.js';
import { keysCommand } from './keys-command.js';
import { migrateCommand } from './migrate-command.js';
import { signCommand } from './sign-command.js';
import { cryptoFileCommands } from './crypto-file-command.js';
import { reencryptCommand } from './reencrypt-command.js';
import { imgproxyEnvCommand } from './imgproxy-env-command.js';
import { resultsCommand } from './results-command.js';

const program = new Command('sluice')
  .description('Authorized private-file delivery: Sluice decides, nginx and object storage move the bytes.')
  .showHelpAfterError();

program.addCommand(serveCommand(() => loadConfig()));
program.addCommand(devCommand());
program.addCommand(tokenCommand(() => loadAuthConfig()));
program.addCommand(nginxConfigCommand(() => loadConfig()));
program.addCommand(workerCommand(() => loadConfig()));
program.addCommand(migrateCommand(() => loadConfig()));
program.addCommand(auditBucketCommand(() => loadConfig()));
program.addCommand(bucketsCommand(() => loadConfig()));
program.addCommand(signCommand(() => loadConfig()));
program.addCommand(keysCommand(() => loadConfig()));
program.addCommand(reencryptCommand(() => loadConfig()));
for (const command of cryptoFileCommands()) program.addCommand(command);
program.addCommand(imgproxyEnvCommand());
program.addCommand(resultsCommand(() => loadConfig()));

try {
  await program.parseAsync(process.argv);
} catch (error) {
  // Configuration and usage problems are the operator's to fix: a message, never a stack.
  const message = error instanceof ConfigError ? error.message : `sluice: ${(error as Error).message}`;
  process.stderr.write(`${message}\n`);
  process.exitCode = 1;
  // A process forked by `--processes` would be kept alive by its IPC channel: end it, so the
  // primary sees the start-up failure.
  if (cluster.isWorker) process.exit(1);
}
