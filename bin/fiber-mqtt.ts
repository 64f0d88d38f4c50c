#!/usr/bin/env node
/*
    fiber-mqtt: command-line MQTT clients with mosquitto_pub / mosquitto_sub's options.
        fiber-mqtt pub -t topic -m message
        fiber-mqtt sub -t 'topic/#' -v
 */
import { rAwait, rInit, rServiceEvents, rStop, rTerm, type Fiber } from '../runtime/index.js'
import { parseArgs, UsageError } from './args.js'
import { USAGE } from './usage.js'
import { CliError } from './connect.js'
import { pub } from './pub.js'
import { sub } from './sub.js'

const [command, ...rest] = process.argv.slice(2)

let quiet = false

function fail(message: string, code = 1): void {
    if (!quiet) {
        process.stderr.write(`${message}\n`)
    }
    process.exitCode = code
}

function* main(): Fiber<void> {
    try {
        if (command === 'bench') {
            /* Loaded only for this command: pub and sub start without it */
            const { bench } = yield* rAwait(import('./bench/index.js'))
            process.exitCode = yield* bench(rest)
            return
        }
        if (command === undefined || command === '--help' || command === '-h') {
            /* The usage of both commands on stdout; exit code 1, as mosquitto's tools answer --help */
            process.stdout.write(`Usage: fiber-mqtt pub|sub|bench [options]\n\n${USAGE.pub}\n\n${USAGE.sub}\n`)
            process.exitCode = 1
            return
        }
        if (command !== 'pub' && command !== 'sub') {
            fail(`Usage: fiber-mqtt pub|sub|bench [options]  (fiber-mqtt pub --help)\nError: Unknown command '${command}'.`)
            return
        }
        let options
        try {
            options = parseArgs(rest, command)
        } catch (err) {
            if (err instanceof UsageError) {
                quiet = rest.includes('--quiet')
                fail(`${/^Error/.test(err.message) ? err.message : `Error: ${err.message}`}\nUse 'fiber-mqtt ${command} --help' to see usage.`)
                return
            }
            throw err
        }
        quiet = options.quiet
        if (options.help) {
            /* As mosquitto's tools: the usage on stdout, exit code 1 */
            process.stdout.write(`${USAGE[command]}\n`)
            process.exitCode = 1
            return
        }
        process.exitCode = command === 'pub' ? yield* pub(options) : yield* sub(options)
    } catch (err) {
        if (err instanceof CliError) {
            fail(err.message, err.code)
        } else {
            fail(`Error: ${(err as Error).stack ?? err}`)
        }
    } finally {
        rStop()
    }
}

rInit(main, null)
await rServiceEvents()
rTerm()
/* Never linger (stdin still open, a socket closing): exit once what was printed is written */
process.stdout.write('', () => process.exit())
