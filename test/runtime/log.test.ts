import { logSpecProblem } from '../../runtime/log.js'
import test from 'ava'
import { spawnSync } from 'node:child_process'
import { fileURLToPath, pathToFileURL } from 'node:url'
import {
    rDebug, rEmitLog, rError, rFormatLog, rInfo, rLog, rSetAppName, rSetLog, rSetLogFilter, rSetLogFormat,
    rSetLogHandler, rTrace,
} from '../../runtime/index.js'
import { quietLogs } from '../helpers/quiet.js'

quietLogs(test)

const runtime = fileURLToPath(new URL('../../runtime/index.js', import.meta.url))

test.serial('filters by type and source; nothing is formatted when filtered out', t => {
    const lines: string[] = []
    const prior = rSetLogHandler((type, source, msg) => { lines.push(`${type}/${source}/${msg}`) })
    let formatted = 0
    const costly = { toString() { formatted++; return 'costly' } }
    try {
        rSetLogFilter('error,info', 'all', true)
        rDebug('app', 'hidden %s', costly)
        rTrace('app', 'hidden %s', costly)
        t.is(formatted, 0)
        rInfo('app', 'shown %s', costly)
        rError('app', 'error %d', 5)
        t.is(formatted, 1)
        rSetLogFilter('all', 'mqtt,!socket', true)
        rDebug('mqtt', 'dbg %s', 'a')
        rTrace('mqtt', 'trc')
        rDebug('socket', 'muted')
        rInfo('other', 'not a listed source')
        rLog('custom', 'mqtt', 'custom type')
        rSetLogFilter('info,!info', 'all,!x', true)
        rInfo('app', 'negated')
        t.false(rEmitLog('info', 'app'))
        t.deepEqual(lines, ['info/app/shown costly', 'error/app/error 5', 'debug/mqtt/dbg a', 'trace/mqtt/trc', 'custom/mqtt/custom type'])
    } finally {
        rSetLogFilter('error,info', 'all', true)
        rSetLogHandler(prior)
    }
})

test.serial('formats lines with the Ioto tokens', t => {
    rSetAppName('unit')
    rSetLogFormat('%A|%T|%S|%M|%P', true)
    t.is(rFormatLog('info', 'src', 'hello'), `unit|info|src|hello|${process.pid}`)
    rSetLogFormat('%H %D %C', true)
    t.regex(rFormatLog('info', 'src', 'x'), /^\S+ \d{4}-\d\d-\d\dT\S+ \d+$/)
    rSetLog(null, '%A: %S: %M', true)
    t.is(rFormatLog('info', 's', 'm'), 'unit: s: m')
})

function run(code: string, env: Record<string, string>) {
    return spawnSync(process.execPath, ['--input-type=module', '-e', code], {
        env: { ...process.env, ...env }, encoding: 'utf8', timeout: 20_000,
    })
}

test('LOG_FILTER chooses what reaches stderr; the default hides debug', t => {
    const code = `import { rDebug, rInfo, rError, rSetLogFilter } from ${JSON.stringify(runtime)}
        rDebug('app', 'debug line'); rInfo('app', 'info line'); rError('net', 'error line')
        rSetLogFilter('error', 'all')
        rInfo('app', 'still shown: the environment wins unless forced')`
    const plain = run(code, { LOG_FILTER: '', LOG_FORMAT: '' })
    t.regex(plain.stderr, /info line/)
    t.regex(plain.stderr, /error line/)
    t.notRegex(plain.stderr, /debug line/)
    t.notRegex(plain.stderr, /still shown/)
    const debug = run(code, { LOG_FILTER: 'stderr:debug,error:all,!net', LOG_FORMAT: '%T-%M' })
    t.regex(debug.stderr, /debug-debug line/)
    t.notRegex(debug.stderr, /info line/)
    t.notRegex(debug.stderr, /error line/)
    const stdout = run(code, { LOG_FILTER: 'stdout:info:app', LOG_FORMAT: '' })
    t.regex(stdout.stdout, /info line/)
    t.regex(stdout.stdout, /still shown/)
})

test('a malformed LOG_FILTER gets a warning on stderr and the default filter, never silence', t => {
    const logModule = fileURLToPath(new URL('../../runtime/log.js', import.meta.url))
    const run = (filter: string) => spawnSync(process.execPath, ['--input-type=module', '-e',
        `const m = await import(${JSON.stringify(pathToFileURL(logModule).href)}); m.rError('app', 'an error'); m.rInfo('app', 'some info')`],
    { env: { ...process.env, LOG_FILTER: filter }, encoding: 'utf8' })
    for (const bad of ['info', 'x:y:z:w', 'stderr::all', ':error:all']) {
        const r = run(bad)
        t.regex(r.stderr, new RegExp(`LOG_FILTER "${bad}" is not valid .*; using "stderr:error,info:all"`), bad)
        t.regex(r.stderr, /app: an error/, bad)
        t.regex(r.stderr, /app: some info/, bad)
    }
    const good = run('stderr:error:all')
    t.notRegex(good.stderr, /not valid/)
    t.regex(good.stderr, /app: an error/)
    t.notRegex(good.stderr, /some info/)
    t.is(logSpecProblem('stdout'), null)
    t.is(logSpecProblem('/var/log/app.log:error:all'), null)
})
