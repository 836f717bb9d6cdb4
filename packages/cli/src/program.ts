/**
 * The `weft` command line: subcommands, their options (validated as they are parsed) and
 * `--help` for each, with commander.
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { Argument, Command, Option } from 'commander';
import { jobList, jobLogs, jobStatus, jobStop, jobSubmit } from './job.ts';
import { parseBytes, parsePort, parsePositiveInt, parseResources } from './options.ts';
import { start } from './start.ts';
import { logs } from './logs.ts';
import { LIST_KINDS, list, status, type ListKind } from './status.ts';
import { stop } from './stop.ts';
import { submit } from './submit.ts';
import { timeline } from './timeline.ts';

const VERSION = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

const SESSION_HELP = 'session folder (default: WEFT_SESSION_DIR, else <tmp>/weft/session_latest)';

/** Adds the options of commands that talk to a running head. */
function withHeadOptions(command: Command): Command {
  return command
    .option('--address <url>', 'the head (default: WEFT_ADDRESS, else the session\'s head)')
    .option('--token <token>', 'the cluster token (default: WEFT_TOKEN, else the session\'s)')
    .option('--session <dir>', SESSION_HELP)
    .option('--tls-ca <file>', 'CA or self-signed certificate (PEM) to trust, for a head serving https');
}

function defineStart(command: Command): void {
  command
    .description('start a head (--head) or a node that joins one (--address), in the background unless --block')
    .addOption(new Option('--head', 'start a head, and a node beside it').conflicts('address'))
    .option('--address <url>', 'join the head at this address (ws://HOST:7350)')
    .option('--host <host>', 'interface to listen on (0.0.0.0: every interface; default: head 127.0.0.1, node the interface on its route to the head)')
    .option('--node-ip-address <address>', 'address other machines reach this one at (default: --host, or for a wildcard the interface on the route to the head)')
    .option('--port <port>', 'port to listen on (head default 7350; node default 0, any free port)', parsePort)
    .option('--num-cpus <n>', 'CPUs this node offers', parsePositiveInt, os.availableParallelism())
    .option('--resources <json>', 'custom resources of this node, e.g. \'{"gpu":1}\'', parseResources, {})
    .option('--object-store-memory <bytes>', 'bytes of objects this node keeps in memory before spilling to disk, e.g. 2000000000 or 2GB (default: 30% of RAM)', parseBytes)
    .option('--token <token>', 'cluster token (head default: random; node default: WEFT_TOKEN, else the session\'s)')
    .option('--tls-cert <file>', 'certificate (PEM) to serve wss/https with (with --tls-key)')
    .option('--tls-key <file>', 'private key (PEM) of --tls-cert')
    .option('--tls-ca <file>', 'CA or self-signed certificate (PEM) to trust when connecting')
    .option('--heartbeat-timeout-ms <ms>', 'head: declare a node dead after this long without a heartbeat', parsePositiveInt, 4500)
    .option('--block', 'stay in the foreground until SIGINT/SIGTERM')
    .option('--session <dir>', 'session folder (default: WEFT_SESSION_DIR, else for a head a new one, for a node session_latest)')
    .addOption(new Option('--daemon').hideHelp())
    .addOption(new Option('--node-name <name>').hideHelp())
    .addHelpText('after', `
Examples:
  weft start --head --num-cpus 2
  weft start --head --host 0.0.0.0 --num-cpus 2
  weft start --address ws://10.0.0.5:7350 --token <token printed by the head>
  weft start --address ws://10.0.0.5:7350 --token <token> --node-ip-address 10.0.0.7 --object-store-memory 4GB`)
    .action(start);
}

function defineSubmit(command: Command): void {
  withHeadOptions(command)
    .description('run a driver program against the cluster (it gets WEFT_ADDRESS, WEFT_TOKEN, WEFT_WORKING_DIR)')
    .option('--working-dir <dir>', 'directory the command runs in and whose code goes to the cluster', '.')
    .argument('<command...>', 'the command and its arguments, after --')
    .passThroughOptions()
    .addHelpText('after', '\nExample:\n  weft submit --working-dir . -- tsx examples/monte-carlo-options.ts')
    .action(async (command: string[], options: Parameters<typeof submit>[1]) => {
      process.exitCode = await submit(command, options);
    });
}

function defineJob(job: Command): void {
  job.description('run a driver on the head\'s machine, where it outlives this terminal (submit, list, status, logs, stop)')
    .enablePositionalOptions();
  withHeadOptions(job.command('submit'))
    .description('pack the working directory, send it to the head and run the command there (it gets WEFT_ADDRESS, WEFT_TOKEN)')
    .option('--working-dir <dir>', 'directory packed and sent to the head (.gitignore and node_modules left out)', '.')
    .option('--job-id <name>', 'the submission\'s id (default: a random submit-…)')
    .option('--no-wait', 'print the submission id and return, instead of following the job\'s log')
    .argument('[command...]', 'the command and its arguments, after --')
    .passThroughOptions()
    .addHelpText('after', `
Without --no-wait it follows the job's log and exits with the job's exit status; Ctrl-C stops
following, not the job. Examples:
  weft job submit --working-dir . -- tsx main.ts
  weft job submit --no-wait --job-id nightly -- node --import tsx main.ts`)
    .action(async (command: string[], options: Parameters<typeof jobSubmit>[1]) => {
      process.exitCode = await jobSubmit(command, options);
    });
  withHeadOptions(job.command('list'))
    .description('list the job submissions the head remembers (the running ones and the last 100 finished)')
    .option('--json', 'print the head\'s JSON')
    .action(jobList);
  withHeadOptions(job.command('status'))
    .description('show one job submission: state, times, exit code, entrypoint')
    .argument('<id>', 'the submission id (weft job list shows them)')
    .option('--json', 'print the head\'s JSON')
    .action(jobStatus);
  withHeadOptions(job.command('logs'))
    .description('print what a submitted job wrote to stdout and stderr')
    .argument('<id>', 'the submission id')
    .option('--follow', 'keep printing until the job ends, then exit with its exit status')
    .action(async (id: string, options: Parameters<typeof jobLogs>[1]) => {
      process.exitCode = await jobLogs(id, options);
    });
  withHeadOptions(job.command('stop'))
    .description('stop a submitted job (SIGTERM, then SIGKILL after 3 s): its state becomes STOPPED')
    .argument('<id>', 'the submission id')
    .action(jobStop);
}

/** The `weft` program with every subcommand. */
export function createProgram(): Command {
  const program = new Command('weft')
    .description('weft: run TypeScript tasks and actors across a cluster')
    .version(VERSION)
    .enablePositionalOptions()
    .showHelpAfterError('(weft <command> --help shows the options)');
  defineStart(program.command('start'));
  program.command('stop')
    .description('stop the head and nodes that weft start started in a session (SIGTERM, then SIGKILL after 10 s)')
    .option('--session <dir>', SESSION_HELP)
    .action(stop);
  withHeadOptions(program.command('status'))
    .description('show the nodes, CPUs used/total, objects and actors of the cluster')
    .option('--json', 'print the head\'s JSON')
    .action(status);
  withHeadOptions(program.command('list'))
    .description('list the nodes, actors, recent tasks or objects of the cluster')
    .addArgument(new Argument('<kind>', 'what to list').choices(LIST_KINDS))
    .option('--json', 'print the head\'s JSON')
    .action((kind: ListKind, options: Parameters<typeof list>[1]) => list(kind, options));
  defineSubmit(program.command('submit'));
  defineJob(program.command('job'));
  withHeadOptions(program.command('timeline'))
    .description('write recent tasks as a Chrome trace (chrome://tracing, ui.perfetto.dev)')
    .option('--output <file>', 'file to write', 'timeline.json')
    .action(timeline);
  withHeadOptions(program.command('logs'))
    .description('print what tasks and actors wrote (the last lines of each, as the nodes keep them), prefixed with where they ran')
    .option('--job <id>', 'only this job\'s lines')
    .option('--task <id>', 'only this task\'s (or actor call\'s) lines')
    .option('--follow', 'keep printing new lines until interrupted')
    .action(logs);
  return program;
}
