#!/usr/bin/env node
/*
    fiber-mqtt: command-line MQTT clients with mosquitto_pub / mosquitto_sub's options.
        fiber-mqtt pub -t topic -m message
        fiber-mqtt sub -t 'topic/#' -v
 */
import { rInit, rServiceEvents, rSetLogFilter, rStop, rTerm, type Fiber } from '../index.js'
import { parseArgs, UsageError, USAGE } from './args.js'
import { CliError } from './connect.js'
import { pub } from './pub.js'
import { sub } from './sub.js'

const [command, ...rest] = process.argv.slice(2)

function fail(message: string, code = 1): void {
    process.stderr.write(`${message}\n`)
    process.exitCode = code
}

function* main(): Fiber<void> {
    try {
        if (command !== 'pub' && command !== 'sub') {
            fail(`Usage: fiber-mqtt pub|sub [options]  (fiber-mqtt pub --help)${command ? `\nError: Unknown command '${command}'.` : ''}`)
            return
        }
        let options
        try {
            options = parseArgs(rest, command)
        } catch (err) {
            if (err instanceof UsageError) {
                fail(`Error: ${err.message.replace(/^Error: /, '')}\nUse 'fiber-mqtt ${command} --help' to see usage.`)
                return
            }
            throw err
        }
        if (options.help) {
            process.stdout.write(`${USAGE[command]}\n`)
            return
        }
        if (options.debug) {
            rSetLogFilter('error,info,debug,trace', 'all', true)
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
