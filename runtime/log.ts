/*
    Logging: rLog(type, source, fmt, ...args) and the rError / rInfo / rTrace / rDebug shorthands.
    Nothing is formatted when the type or source is filtered out.

    The filter is "dest:types:sources", as in Ioto. The default is "stderr:error,info:all". Set the LOG_FILTER
    environment variable to change it, e.g. LOG_FILTER="stderr:error,info,debug,trace:all,!socket".
    LOG_FORMAT sets the line format: %A app, %C ticks, %D date, %H host, %P pid, %S source, %T type, %M message.
 */
import { appendFileSync } from 'node:fs'
import { hostname } from 'node:os'
import { basename, extname } from 'node:path'
import { sfmtv } from './sfmt.js'
import { rGetTicks } from './time.js'

export type RLogHandler = (type: string, source: string, msg: string) => void

const DEFAULT_FILTER = 'stderr:error,info:all'
const DEFAULT_FORMAT = '%A: %S: %M'

let destination = 'stderr'
let format = DEFAULT_FORMAT
let types = new Set<string>()
let allTypes = false
let allSources = true
let allowSources = new Set<string>()
let denySources = new Set<string>()
let locked = false
let debugOn = false
let traceOn = false
let handler: RLogHandler = defaultHandler
let app = appName()

/**
    Set the log destination, filter and format. `spec` is "dest:types:sources" (dest: stderr, stdout or a file path).
    Values from LOG_FILTER / LOG_FORMAT win unless `force` is true.
    @example rSetLog('stderr:error,info,debug:all,!socket', '%T %S: %M', true)
 */
export function rSetLog(spec: string | null, fmt: string | null, force = false): number {
    if (locked && !force) {
        return 0
    }
    if (spec) {
        const [dest, typeList, sourceList] = spec.split(':')
        if (dest) {
            destination = dest
        }
        applyFilter(typeList ?? 'error,info', sourceList ?? 'all')
    }
    if (fmt) {
        format = fmt
    }
    return 0
}

/**
    Set which types and sources are logged: comma lists, "all" for everything, "!name" to exclude.
    @example rSetLogFilter('error,info,debug', 'all,!socket', true)
 */
export function rSetLogFilter(typeList: string | null, sourceList: string | null, force = false): void {
    if (locked && !force) {
        return
    }
    applyFilter(typeList ?? 'error,info', sourceList ?? 'all')
}

/**
    Set the log line format: %A app, %T type, %S source, %M message, %D date, %C ticks, %H host, %P pid
    (LOG_FORMAT wins unless `force`).
    @example rSetLogFormat('%A %T %S: %M', true)
 */
export function rSetLogFormat(fmt: string, force = false): void {
    if (!locked || force) {
        format = fmt || DEFAULT_FORMAT
    }
}

/**
    Replace the log handler; returns the previous one.
    @example const prior = rSetLogHandler((type, source, msg) => lines.push(`${type} ${source} ${msg}`))
 */
export function rSetLogHandler(fn: RLogHandler | null): RLogHandler {
    const prior = handler
    handler = fn ?? defaultHandler
    return prior
}

/**
    The application name used for %A.
    @example rSetAppName('thermostat')
 */
export function rSetAppName(name: string): void {
    app = name
}

/**
    Whether a message of this type from this source would be logged.
    @example if (rEmitLog('debug', 'app')) rDebug('app', '%s', expensiveDump())
 */
export function rEmitLog(type: string, source: string): boolean {
    if (!allTypes && !types.has(type)) {
        return false
    }
    if (allSources) {
        return denySources.size === 0 || !denySources.has(source)
    }
    return allowSources.has(source) && !denySources.has(source)
}

/**
    Log a message of the given type ("error", "info", "trace", "debug" or any other).
    @example rLog('audit', 'app', 'door %s opened by %s', door, user)
 */
export function rLog(type: string, source: string, fmt: string, ...args: unknown[]): void {
    if (rEmitLog(type, source)) {
        handler(type, source, sfmtv(fmt, args))
    }
}

/**
    Log an error (printf-style); nothing is formatted when errors from `source` are filtered out.
    @example rError('app', 'Cannot open %s: %d', path, rc)
 */
export function rError(source: string, fmt: string, ...args: unknown[]): void {
    if (rEmitLog('error', source)) {
        handler('error', source, sfmtv(fmt, args))
    }
}

/**
    Log information (printf-style); nothing is formatted when filtered out.
    @example rInfo('app', 'Connected to %s:%d', host, port)
 */
export function rInfo(source: string, fmt: string, ...args: unknown[]): void {
    if (rEmitLog('info', source)) {
        handler('info', source, sfmtv(fmt, args))
    }
}

/**
    Log a trace message (printf-style), shown when LOG_FILTER includes trace.
    @example rTrace('app', 'state %d -> %d', from, to)
 */
export function rTrace(source: string, fmt: string, ...args: unknown[]): void {
    if (traceOn && rEmitLog('trace', source)) {
        handler('trace', source, sfmtv(fmt, args))
    }
}

/**
    Log a debug message (printf-style), shown when LOG_FILTER includes debug.
    @example rDebug('app', 'buffer %d/%d bytes', used, size)
 */
export function rDebug(source: string, fmt: string, ...args: unknown[]): void {
    if (debugOn && rEmitLog('debug', source)) {
        handler('debug', source, sfmtv(fmt, args))
    }
}

/**
    Format a log line with the current format (exported for custom handlers).
    @example rSetLogHandler((type, source, msg) => file.write(rFormatLog(type, source, msg) + '\n'))
 */
export function rFormatLog(type: string, source: string, msg: string): string {
    return format.replace(/%([ACDHPSTM])/g, (_, token: string) => {
        switch (token) {
        case 'A': return app
        case 'C': return String(rGetTicks())
        case 'D': return new Date().toISOString()
        case 'H': return hostname()
        case 'P': return String(process.pid)
        case 'S': return source
        case 'T': return type
        default: return msg
        }
    })
}

function defaultHandler(type: string, source: string, msg: string): void {
    const line = rFormatLog(type, source, msg) + '\n'
    if (destination === 'stderr') {
        process.stderr.write(line)
    } else if (destination === 'stdout') {
        process.stdout.write(line)
    } else {
        try {
            appendFileSync(destination, line)
        } catch {
            process.stderr.write(line)
        }
    }
}

function applyFilter(typeList: string, sourceList: string): void {
    types = new Set()
    allTypes = false
    for (const t of typeList.split(',').map(s => s.trim()).filter(Boolean)) {
        if (t === 'all') {
            allTypes = true
        } else if (t.startsWith('!')) {
            types.delete(t.slice(1))
        } else {
            types.add(t)
        }
    }
    allSources = false
    allowSources = new Set()
    denySources = new Set()
    for (const s of sourceList.split(',').map(s => s.trim()).filter(Boolean)) {
        if (s === 'all') {
            allSources = true
        } else if (s.startsWith('!')) {
            denySources.add(s.slice(1))
        } else {
            allowSources.add(s)
        }
    }
    debugOn = allTypes || types.has('debug')
    traceOn = allTypes || types.has('trace')
}

function appName(): string {
    const script = process.argv[1]
    return script ? basename(script, extname(script)) : 'fiber-mqtt'
}

/**
    Why a "dest:types:sources" filter is malformed, or null when it is fine. A bare destination (no ':') is
    only stderr, stdout or a path with a '/': a bare word such as "info" is a mistake, not a file name.
    @example logSpecProblem('info')   // 'expected dest:types:sources, e.g. stderr:error,info:all'
 */
export function logSpecProblem(spec: string): string | null {
    const parts = spec.split(':')
    if (parts.length > 3 || parts[0].trim() === '') {
        return 'expected dest:types:sources, e.g. stderr:error,info:all'
    }
    if (parts.length === 1 && !['stderr', 'stdout'].includes(parts[0]) && !parts[0].includes('/')) {
        return 'expected dest:types:sources, e.g. stderr:error,info:all'
    }
    if (parts.length > 1 && parts[1].split(',').map(s => s.trim()).filter(Boolean).length === 0) {
        return 'no log types given'
    }
    return null
}

applyFilter('error,info', 'all')
if (process.env.LOG_FILTER || process.env.LOG_FORMAT) {
    let filter = process.env.LOG_FILTER || DEFAULT_FILTER
    const problem = logSpecProblem(filter)
    if (problem !== null) {
        /* A malformed filter must not silence everything: say so, and keep the default */
        process.stderr.write(`${app}: LOG_FILTER "${filter}" is not valid (${problem}); using "${DEFAULT_FILTER}"\n`)
        filter = DEFAULT_FILTER
    }
    rSetLog(filter, process.env.LOG_FORMAT ?? null, true)
    locked = true
}
